//! Helpers the DVE tests share: the states a model reaches, the error a source gives,
//! and the BEEM fixture directory.
#![allow(dead_code)] // Not every test that includes this module uses all of it.

use std::path::PathBuf;

use checker_core::Model;
use checker_dve::{DveModel, StateVector};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures-beem");

/// All reachable states, in BFS order of discovery.
pub fn reachable(m: &DveModel) -> Vec<Vec<u8>> {
    let mut seen = vec![m.initial_state().to_vec()];
    let mut i = 0;
    while i < seen.len() {
        let s = StateVector::from_slice(&seen[i]);
        m.successors(&s, &mut |_, t| {
            if !seen.iter().any(|x| x[..] == t[..]) {
                seen.push(t.to_vec());
            }
        });
        i += 1;
    }
    seen
}

/// The error `src` gives, checked to be one line.
pub fn error(src: &str) -> String {
    match DveModel::from_source("t.dve", src) {
        Ok(_) => panic!("accepted: {src}"),
        Err(e) => {
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
            text
        }
    }
}

/// The fixture directory, or `None` (after a notice) when it is missing outside CI.
pub fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(FIXTURES);
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("BEEM fixtures missing at {}", dir.display());
    }
    eprintln!(
        "notice: BEEM fixtures not found at {}; skipping (set CI=true to make this fail)",
        dir.display()
    );
    None
}
