//! Texts per second of `StaticModel::encode` (all cores, rayon) on a file of one text per
//! line, the figure scripts/embed_speed.py sets beside Python model2vec's on the same texts.
//!
//!     cargo run --release --example embed_bench -- MODEL_DIR TEXTS.txt [REPEATS]

use std::time::Instant;

use simdedup::vectors::embed::StaticModel;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("a model directory");
    let file = args.next().expect("a file of texts, one per line");
    let repeats: usize = args.next().map_or(3, |r| r.parse().expect("a number"));
    let t = Instant::now();
    let model = StaticModel::load(dir.as_ref()).expect("a model");
    let load = t.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&file).expect("a UTF-8 file");
    let texts: Vec<&str> = text.lines().collect();
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let t = Instant::now();
        let v = model.encode(&texts);
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(v.len(), texts.len() * model.dim());
    }
    println!(
        "load {load:.3} s; {} texts in {best:.3} s (best of {repeats}): {:.0} texts/s on {} thread(s)",
        texts.len(),
        texts.len() as f64 / best,
        rayon::current_num_threads()
    );
}
