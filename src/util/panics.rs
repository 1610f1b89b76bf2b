//! Panics inside a trial fail that trial. A trial runs on a runtime of its own, on threads of
//! its own; a panic in any task there (a mock's fault, the relay, a step) is caught by tokio and
//! would otherwise only be printed while the trial passes. [`Catcher`] collects the panics of
//! the threads it is set on, with their messages and places, and keeps them off stderr.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::{Arc, Mutex, Once};

use super::lock;

thread_local! {
    static CATCHER: RefCell<Option<Catcher>> = const { RefCell::new(None) };
}

/// The panics of the threads a catcher is set on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Catcher(Arc<Mutex<Vec<String>>>);

impl Catcher {
    /// A new catcher, with the process's panic hook taught to use it (once per process; a
    /// thread without a catcher still panics as before).
    pub(crate) fn new() -> Self {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let before = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let caught = CATCHER.with(|c| {
                    c.borrow()
                        .as_ref()
                        .map(|catcher| lock(&catcher.0).push(describe(info)))
                        .is_some()
                });
                if !caught {
                    before(info);
                }
            }));
        });
        Self::default()
    }

    /// Collects the panics of the current thread until [`Self::unset`] (runtime threads set it
    /// in `on_thread_start`).
    pub(crate) fn set(&self) {
        CATCHER.with(|c| *c.borrow_mut() = Some(self.clone()));
    }

    /// The current thread's panics go to the previous hook again.
    pub(crate) fn unset() {
        CATCHER.with(|c| *c.borrow_mut() = None);
    }

    /// The panics caught so far, in order, as "MESSAGE (at FILE:LINE:COL)".
    pub(crate) fn caught(&self) -> Vec<String> {
        lock(&self.0).clone()
    }
}

/// Runs `future` to its end on a runtime from `builder`, catching every panic on the runtime's
/// threads: in its tasks, in the future itself (then `None`), and in what the runtime drops.
/// Returns the result and the panics, in order.
pub(crate) fn block_on_caught<F: Future>(
    mut builder: tokio::runtime::Builder,
    future: F,
) -> std::io::Result<(Option<F::Output>, Vec<String>)> {
    let catcher = Catcher::new();
    let on_start = catcher.clone();
    builder.on_thread_start(move || on_start.set());
    catcher.set();
    let ran = builder.build().map(|runtime| {
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(future)));
        drop(runtime);
        ran.ok()
    });
    Catcher::unset();
    Ok((ran?, catcher.caught()))
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_owned());
    match info.location() {
        Some(at) => format!("{message} (at {}:{}:{})", at.file(), at.line(), at.column()),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_of_a_set_thread_are_caught_with_their_place_and_others_are_not() {
        let catcher = Catcher::new();
        let inner = catcher.clone();
        std::thread::spawn(move || {
            inner.set();
            let _ = std::panic::catch_unwind(|| panic!("boom {}", 7));
            Catcher::unset();
        })
        .join()
        .unwrap();
        let caught = catcher.caught();
        assert_eq!(caught.len(), 1, "{caught:?}");
        assert!(
            caught[0].starts_with("boom 7 (at src/util/panics.rs:"),
            "{caught:?}"
        );
        // A thread without the catcher is not collected.
        let _ = std::thread::spawn(|| panic!("elsewhere")).join();
        assert_eq!(catcher.caught().len(), 1);
    }

    #[test]
    fn a_panicking_task_or_future_is_reported_and_the_result_kept() {
        let builder = || {
            let mut b = tokio::runtime::Builder::new_current_thread();
            b.enable_all().start_paused(true);
            b
        };
        // A task's panic: tokio catches it, the future goes on, the panic is reported.
        let (ran, panics) = block_on_caught(builder(), async {
            let task = tokio::spawn(async { panic!("a fault's arithmetic") });
            assert!(task.await.is_err());
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            42
        })
        .unwrap();
        assert_eq!(ran, Some(42));
        assert_eq!(panics.len(), 1, "{panics:?}");
        assert!(
            panics[0].starts_with("a fault's arithmetic (at "),
            "{panics:?}"
        );
        // The future's own panic: no result, and the message.
        let (ran, panics) = block_on_caught(builder(), async {
            let steps: Vec<u8> = Vec::new();
            steps.first().copied().expect("the step's own state")
        })
        .unwrap();
        assert_eq!(ran, None);
        assert!(panics[0].starts_with("the step's own state"), "{panics:?}");
        // None: nothing reported.
        let (ran, panics) = block_on_caught(builder(), async { 1 }).unwrap();
        assert_eq!((ran, panics.len()), (Some(1), 0));
    }
}
