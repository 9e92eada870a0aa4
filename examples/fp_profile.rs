use simdedup::shingle::{Normalization, Shingling};
use simdedup::simhash::{TextConfig, fingerprint_text};
fn main() {
    let mut text = String::new();
    for e in walkdir::WalkDir::new("/usr/share/common-licenses").sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            text.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
        }
    }
    let cfg = TextConfig {
        shingling: "word:3".parse::<Shingling>().unwrap(),
        normalization: Normalization::ALL,
        compat: false,
    };
    let t = std::time::Instant::now();
    let mut x = 0u64;
    for _ in 0..200 {
        for chunk in text.as_bytes().chunks(4096) {
            let s = String::from_utf8_lossy(chunk);
            x ^= fingerprint_text::<u64>(&s, &cfg).fingerprint;
        }
    }
    let el = t.elapsed().as_secs_f64();
    println!("{x} {:.1} MB/s", 200.0 * text.len() as f64 / el / 1e6);
}
