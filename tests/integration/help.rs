//! `--help` is part of the user manual: pinned so changes are deliberate.

use crate::common::*;

#[test]
fn long_help_is_pinned() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path()).arg("--help").env("COLUMNS", "100"));
    assert_eq!(code(&out), exit::OK);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn short_help_is_pinned() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path()).arg("-h").env("COLUMNS", "100"));
    assert_eq!(code(&out), exit::OK);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}
