//! Validates a JUnit file against `tests/support/junit.xsd` with `xmllint` (Debian's
//! `libxml2-utils`, which `.ci/run` installs).

use std::path::Path;
use std::process::Command;

/// Panics, with xmllint's complaint, unless `xml` is valid JUnit.
pub fn validate(xml: &Path) {
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/junit.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(xml)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint is needed to validate JUnit ({e}): apt-get install libxml2-utils")
        });
    assert!(
        out.status.success(),
        "{} is not valid JUnit:\n{}",
        xml.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
