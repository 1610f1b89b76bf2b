//! Every process group this process started, process-wide, so that a signal handler (the CLI's
//! Ctrl-C) can end them all, and a sweep of the descendants that escaped their group.
//!
//! A stdio cattackle, a `launch`ed server and the stdio relay's child each lead a process group
//! of their own; while one is live its group is registered here ([`Group`] unregisters it on
//! drop). A grandchild that calls `setsid()` leaves the group: [`descendants`] finds it through
//! the parent links in `/proc`, which hold when this process is a child subreaper
//! ([`become_subreaper`]), as the CLI makes itself.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use crate::util::lock;

static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// A live process group, registered while this value lives.
#[derive(Debug)]
pub(crate) struct Group(i32);

impl Group {
    /// Registers the group led by `pid` (none for a pid that cannot be a group id).
    pub(crate) fn register(pid: Option<u32>) -> Option<Self> {
        let pgid = i32::try_from(pid?).ok().filter(|p| *p > 1)?;
        lock(&LIVE).insert(pgid);
        Some(Self(pgid))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        lock(&LIVE).remove(&self.0);
    }
}

/// The process groups started here and still registered.
pub fn live_groups() -> Vec<i32> {
    lock(&LIVE).iter().copied().collect()
}

fn signal_groups(groups: &[i32], signal: libc::c_int) {
    for &group in groups {
        // SAFETY: killpg has no memory-safety preconditions; ESRCH (group gone) is fine.
        unsafe {
            libc::killpg(group, signal);
        }
    }
}

fn signal_pids(pids: &[i32], signal: libc::c_int) {
    for &pid in pids {
        // SAFETY: kill has no memory-safety preconditions; ESRCH (gone) is fine.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// What [`end_all`] and [`kill_all`] end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The registered process groups: what the manager and the harness started.
    Groups,
    /// Those and every other descendant of this process: for a program that owns its process
    /// (the CLI), where a descendant that left its group has escaped the manager.
    GroupsAndDescendants,
}

/// Ends every registered process group (and, by `scope`, every descendant of this process):
/// SIGTERM, up to `grace` for them to exit, then SIGKILL for what is left. Returns how many
/// processes were running when it began.
pub async fn end_all(grace: Duration, scope: Scope) -> usize {
    let groups = live_groups();
    let running = running_in(&groups, scope);
    let started = running.len();
    signal_groups(&groups, libc::SIGTERM);
    signal_pids(&running, libc::SIGTERM);
    let deadline = crate::util::deadline_after(grace);
    while tokio::time::Instant::now() < deadline && !running_in(&groups, scope).is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill_all(scope);
    started
}

/// SIGKILL to every registered group (and, by `scope`, every descendant), at once.
pub fn kill_all(scope: Scope) {
    let groups = live_groups();
    let running = running_in(&groups, scope);
    signal_groups(&groups, libc::SIGKILL);
    signal_pids(&running, libc::SIGKILL);
}

/// The running (not zombie) processes that are in `groups` or, by `scope`, descend from this
/// process.
fn running_in(groups: &[i32], scope: Scope) -> Vec<i32> {
    let table = process_table();
    let mut pids = BTreeSet::new();
    if scope == Scope::GroupsAndDescendants {
        pids.extend(descendants_in(&table, std::process::id() as i32));
    }
    pids.extend(
        table
            .iter()
            .filter(|(_, p)| groups.contains(&p.group))
            .map(|(pid, _)| *pid),
    );
    pids.into_iter()
        .filter(|pid| table.get(pid).is_some_and(|p| !p.zombie))
        .collect()
}

/// The running descendants of the group leader `pid` (through every generation) that are not
/// in its group: those that left it with `setsid` or `setpgid`.
pub(crate) fn escaped_from(pid: u32) -> Vec<i32> {
    let Ok(root) = i32::try_from(pid) else {
        return Vec::new();
    };
    let table = process_table();
    descendants_in(&table, root)
        .into_iter()
        .filter(|pid| table.get(pid).is_some_and(|p| !p.zombie && p.group != root))
        .collect()
}

/// SIGKILL to each of `pids` (those already gone are skipped by the kernel).
pub(crate) fn kill_pids(pids: &[i32]) {
    signal_pids(pids, libc::SIGKILL);
}

/// The running descendants of this process, children first.
pub fn descendants() -> Vec<i32> {
    let table = process_table();
    descendants_in(&table, std::process::id() as i32)
        .into_iter()
        .filter(|pid| table.get(pid).is_some_and(|p| !p.zombie))
        .collect()
}

/// Makes this process a child subreaper (Linux): an orphaned descendant, such as a grandchild
/// that called `setsid()` and outlived its parent, is re-parented to it instead of to init, so
/// [`descendants`] still finds it. Whether it took effect.
pub fn become_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and touches no memory of ours.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

struct Entry {
    parent: i32,
    group: i32,
    zombie: bool,
}

/// `/proc`'s processes (empty where there is no `/proc`).
fn process_table() -> HashMap<i32, Entry> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return HashMap::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            parse_stat(&stat).map(|entry| (pid, entry))
        })
        .collect()
}

/// `PID (COMM) STATE PPID PGRP …`; COMM may hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<Entry> {
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?;
    Some(Entry {
        parent: rest.next()?.parse().ok()?,
        group: rest.next()?.parse().ok()?,
        zombie: matches!(state, "Z" | "X"),
    })
}

fn descendants_in(table: &HashMap<i32, Entry>, root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for (pid, entry) in table {
        children.entry(entry.parent).or_default().push(*pid);
    }
    let mut out = Vec::new();
    let mut next = vec![root];
    while let Some(pid) = next.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            if child != root && !out.contains(&child) {
                out.push(child);
                next.push(child);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_with_odd_command_names() {
        let e = parse_stat("4242 (a (b) c) S 17 4242 4242 0 -1 4194560").unwrap();
        assert_eq!((e.parent, e.group, e.zombie), (17, 4242, false));
        assert!(parse_stat("7 (x) Z 1 7 7").unwrap().zombie);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn descendants_follow_parent_links_through_every_generation() {
        let entry = |parent, group| Entry {
            parent,
            group,
            zombie: false,
        };
        let table: HashMap<i32, Entry> = [
            (10, entry(1, 10)),
            (11, entry(10, 11)),
            (12, entry(11, 12)),
            (13, entry(12, 99)),
            (20, entry(1, 20)),
        ]
        .into_iter()
        .collect();
        let mut found = descendants_in(&table, 10);
        found.sort_unstable();
        assert_eq!(found, [11, 12, 13]);
        assert!(descendants_in(&table, 20).is_empty());
    }

    #[test]
    fn a_group_is_listed_while_registered() {
        let group = Group::register(Some(999_991)).unwrap();
        assert!(live_groups().contains(&999_991));
        drop(group);
        assert!(!live_groups().contains(&999_991));
        assert!(Group::register(Some(1)).is_none());
        assert!(Group::register(None).is_none());
    }
}
