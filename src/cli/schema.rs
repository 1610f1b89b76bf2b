//! `cattackle schema`: the JSON Schema of scenario files (for editors), or with
//! `--check-report` that of `cattackle check --format json`.

use super::EXIT_OK;

#[derive(clap::Args, Debug)]
pub(crate) struct SchemaArgs {
    /// Print the schema of `cattackle check --format json` instead.
    #[arg(long, conflicts_with = "test_report")]
    check_report: bool,
    /// Print the schema of `cattackle test --format json` instead.
    #[arg(long)]
    test_report: bool,
}

pub(crate) fn run(args: &SchemaArgs) -> u8 {
    if args.check_report {
        println!("{}", cattackle_harness::check::report::json_schema());
    } else if args.test_report {
        println!("{}", cattackle_harness::trial::TestReport::json_schema());
    } else {
        print!("{}", cattackle_harness::scenario::json_schema());
    }
    EXIT_OK
}
