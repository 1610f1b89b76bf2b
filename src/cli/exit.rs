//! The exit codes of every subcommand: one table, documented in `--help` and the README.

use cattackle_harness::manager::{CattackleError, Phase};

/// Everything worked.
pub(crate) const EXIT_OK: u8 = 0;
/// The cattackle answered with an error (`error` non-empty, `isError`, a JSON-RPC error, a
/// contract violation), or a trial or check failed.
pub(crate) const EXIT_FAILED: u8 = 1;
/// Bad usage or bad configuration: nothing was sent, or nothing was run.
pub(crate) const EXIT_USAGE: u8 = 2;
/// The cattackle could not be started or reached (spawn, connect, handshake, a connection lost
/// mid-call, HTTP 429 or 503; retries exhausted on those), or is unavailable (breaker open,
/// bulkhead full, retry budget empty).
pub(crate) const EXIT_UNREACHABLE: u8 = 3;
/// The call timed out (retries exhausted on timeouts, or its deadline passed).
pub(crate) const EXIT_TIMED_OUT: u8 = 4;

/// The table, as `--help` prints it.
pub(crate) const EXIT_CODES: &str = "\
Exit codes (every subcommand):
  0  success
  1  the cattackle answered with an error (`error` non-empty, isError, JSON-RPC error,
     contract violation), a trial failed, or a MUST check failed (check)
  2  bad usage or invalid configuration (nothing was sent or run)
  3  the cattackle could not be started or reached (spawn, connect, handshake, connection
     lost, HTTP 429 or 503), or is unavailable (circuit breaker open, bulkhead full, retry
     budget empty; its fallback on stdout); check: a target could not be reached at all
  4  the call timed out, or its deadline passed
  129, 130, 143  stopped by SIGHUP, SIGINT or SIGTERM: every child and launched server
     was stopped first (SIGTERM, SIGKILL after 2 s; a second signal kills at once)";

/// The exit code of a call that failed with `error`: for retries exhausted, the code of the
/// last attempt's error.
pub(crate) fn of_error(error: &CattackleError) -> u8 {
    match error {
        CattackleError::Exhausted { last, .. } | CattackleError::OutcomeUnknown { last, .. } => {
            of_error(last)
        }
        CattackleError::Unavailable { .. } => EXIT_UNREACHABLE,
        CattackleError::DeadlineExceeded { .. } => EXIT_TIMED_OUT,
        CattackleError::UnknownCommand { .. }
        | CattackleError::PayloadTooLarge { .. }
        | CattackleError::Misconfigured { .. } => EXIT_USAGE,
        CattackleError::NotSent { .. } | CattackleError::TransportClosed { .. } => EXIT_UNREACHABLE,
        CattackleError::HttpStatus {
            status: 429 | 503, ..
        } => EXIT_UNREACHABLE,
        CattackleError::TimedOut {
            phase: Phase::Call, ..
        } => EXIT_TIMED_OUT,
        CattackleError::TimedOut { .. } => EXIT_UNREACHABLE,
        _ => EXIT_FAILED,
    }
}
