//! Replays every checked-in corpus file (`fuzz/corpus/<target>/`) and crash reproducer
//! (`fuzz/artifacts-kept/<target>/`) through the same checks the fuzz targets run, on stable.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[test]
fn every_corpus_and_crash_file_passes_its_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut failures = Vec::new();
    for &(target, check) in ws_fuzz_checks::TARGETS {
        let corpus = files(&root.join("corpus").join(target));
        assert!(!corpus.is_empty(), "no seed corpus for {target}");
        let crashes = files(&root.join("artifacts-kept").join(target));
        for file in corpus.iter().chain(&crashes) {
            let data = std::fs::read(file).expect("readable corpus file");
            if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
                failures.push(file.display().to_string());
            }
        }
        println!(
            "{target}: {} corpus files, {} crash reproducers",
            corpus.len(),
            crashes.len()
        );
    }
    assert!(
        failures.is_empty(),
        "failing inputs:\n{}",
        failures.join("\n")
    );
}
