//! `simdedup embed`: text files to a `.npy` file of vectors with a static-embedding model
//! ([`simdedup::vectors::embed`]). Streams: files are read and embedded a batch at a time in
//! parallel and their rows written as each batch is done, so memory holds one batch, not
//! the corpus. The `.npy` header (which holds the row count) is written last, over a
//! placeholder of the same length; the output appears under its name only when complete.

use std::io::{BufWriter, Seek, SeekFrom, Write};

use anyhow::{Context, Result};

use simdedup::atomic_file::AtomicFile;
use simdedup::jobs::embed::embed_files;
use simdedup::output::write_path;
use simdedup::vectors::embed::StaticModel;

use crate::cli::EmbedArgs;
use crate::commands::{self, Ctx};

/// Length of the `.npy` header written: room for any row count.
const HEADER_BYTES: usize = 128;

pub fn embed(ctx: &Ctx, args: &EmbedArgs) -> Result<()> {
    let model = StaticModel::load(&args.model).context("cannot load the model")?;
    let dim = model.dim();
    let list = commands::files(ctx, &args.input);
    let mut out = AtomicFile::create(&args.output)?;
    let mut ids = args.ids.as_deref().map(AtomicFile::create).transpose()?;
    let stats = {
        let mut npy = BufWriter::new(out.as_file());
        let mut ids_out = ids.as_ref().map(|f| BufWriter::new(f.as_file()));
        npy.write_all(&header(0, dim)).map_err(|e| out.error(e))?;
        let mut bytes = Vec::with_capacity(dim * 4);
        let stats = embed_files(
            &model,
            &list.files,
            args.input.binary,
            &ctx.bars,
            ctx,
            &mut |path, vector| -> Result<()> {
                bytes.clear();
                for v in vector {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
                npy.write_all(&bytes).map_err(|e| out.error(e))?;
                if let (Some(w), Some(f)) = (ids_out.as_mut(), ids.as_ref()) {
                    write_path(w, path)
                        .and_then(|()| w.write_all(b"\n"))
                        .map_err(|e| f.error(e))?;
                }
                Ok(())
            },
        )?;
        npy.flush().map_err(|e| out.error(e))?;
        if let (Some(mut w), Some(f)) = (ids_out, ids.as_ref()) {
            w.flush().map_err(|e| f.error(e))?;
        }
        stats
    };
    let rows = stats.rows as u64;
    let mut file = out.as_file();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.write_all(&header(rows, dim)))
        .map_err(|e| out.error(e))
        .context("the .npy header is written last: -o must be a regular file")?;
    out.flush().map_err(|e| out.error(e))?;
    let binary = stats.binary;
    if binary > 0 {
        ctx.note(&format!(
            "{binary} binary file(s) skipped (they contain NUL bytes; --binary reads them)"
        ));
    }
    out.commit()?;
    if let Some(ids) = ids.take() {
        ids.commit()?;
    }
    ctx.note(&format!(
        "{rows} text(s) embedded: {rows} x {dim} float32 in {}",
        args.output.display()
    ));
    Ok(())
}

/// A `.npy` version 1.0 header for `rows` × `dim` little-endian float32, padded to
/// [`HEADER_BYTES`] whatever the numbers (as numpy pads, with spaces and a newline).
fn header(rows: u64, dim: usize) -> Vec<u8> {
    let mut text =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    text.extend(std::iter::repeat_n(' ', HEADER_BYTES - 10 - 1 - text.len()));
    text.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}
