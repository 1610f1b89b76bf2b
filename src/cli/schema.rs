//! `cattackle schema`: the JSON Schema of scenario files, for editors.

use super::EXIT_OK;

pub(crate) fn run() -> u8 {
    print!("{}", cattackle_harness::scenario::json_schema());
    EXIT_OK
}
