//! `--help` is part of the user manual: pinned so changes are deliberate.

mod common;
use common::*;

#[test]
fn long_help_is_pinned() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path()).arg("--help").env("COLUMNS", "100"));
    assert_eq!(code(&out), 0);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn short_help_is_pinned() {
    let s = Scratch::new();
    let out = run(genimport(s.dir.path()).arg("-h").env("COLUMNS", "100"));
    assert_eq!(code(&out), 0);
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}
