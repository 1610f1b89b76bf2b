//! SIGINT, SIGTERM and SIGHUP: every cattackle child, `launch`ed server and escaped descendant
//! is stopped (SIGTERM to its process group, SIGKILL after the grace), then the program exits
//! with the conventional code (128 + the signal's number). A second SIGINT or SIGTERM while it
//! stops kills everything at once.
//!
//! Trials and calls run on runtimes of their own (one per trial for `test`), so the handler
//! runs on a thread of its own, with its own runtime.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cattackle_harness::transport::processes::{self, Scope};
use tokio::signal::unix::{SignalKind, signal};

/// How long children have to exit after SIGTERM before they are killed.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// Set once a signal arrived: the handler owns the exit from then on.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// Starts the handler. Also makes the program a child subreaper, so a descendant that left its
/// process group (`setsid`) is still found when the program stops.
pub(crate) fn install() {
    processes::become_subreaper();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::warn!("signals will not stop the cattackles: no runtime for them: {e}");
            return;
        }
    };
    // Registered here, before any child starts, so that no signal finds the default action.
    let listeners = runtime.block_on(async {
        [
            (SignalKind::interrupt(), libc::SIGINT, "SIGINT"),
            (SignalKind::terminate(), libc::SIGTERM, "SIGTERM"),
            (SignalKind::hangup(), libc::SIGHUP, "SIGHUP"),
        ]
        .into_iter()
        .filter_map(|(kind, number, name)| Some((signal(kind).ok()?, number, name)))
        .collect::<Vec<_>>()
    });
    let spawned = std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || runtime.block_on(handle(listeners)));
    if let Err(e) = spawned {
        tracing::warn!("signals will not stop the cattackles: {e}");
    }
}

type Listener = (tokio::signal::unix::Signal, libc::c_int, &'static str);

async fn handle(mut listeners: Vec<Listener>) {
    let (number, name) = next(&mut listeners).await;
    SIGNALLED.store(true, Ordering::SeqCst);
    eprintln!(
        "\ncattackle: {name}: stopping every cattackle and server (again to kill them at once)"
    );
    let stopping = processes::end_all(GRACE, Scope::GroupsAndDescendants);
    tokio::select! {
        _ = stopping => {}
        (_, again) = next(&mut listeners) => {
            eprintln!("cattackle: {again}: killing them now");
            processes::kill_all(Scope::GroupsAndDescendants);
        }
    }
    std::process::exit(128 + number);
}

/// The next signal of any listener.
async fn next(listeners: &mut [Listener]) -> (libc::c_int, &'static str) {
    let waits = listeners.iter_mut().map(|(signal, number, name)| {
        Box::pin(async move {
            signal.recv().await;
            (*number, *name)
        })
    });
    futures::future::select_all(waits).await.0
}

/// At a normal end: what escaped its process group and outlived its session (a `setsid`
/// grandchild, re-parented here) is killed too, instead of being left to init. After a signal,
/// the command may have ended because its children were stopped: the handler exits, with the
/// signal's code, once they are all gone.
pub(crate) fn sweep() {
    if SIGNALLED.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    let left = processes::descendants();
    if !left.is_empty() {
        tracing::debug!(?left, "killing descendants left behind by their sessions");
        processes::kill_all(Scope::GroupsAndDescendants);
    }
}
