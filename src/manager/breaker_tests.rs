//! The breaker's state machine, step by step on a paused clock.

use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn config() -> BreakerConfig {
    BreakerConfig {
        consecutive_failures: 3,
        failure_rate: 0.5,
        window: 4,
        min_calls: 4,
        base: Duration::from_secs(10),
        factor: 2.0,
        max: Duration::from_secs(25),
    }
}

/// One attempt through the breaker at `now`: its result, and the state after.
fn attempt(b: &mut Breaker, now: Instant, failed: bool) -> Result<BreakerState, Duration> {
    let (ticket, _) = b.admit(now)?;
    b.record(ticket, failed, now);
    Ok(b.state())
}

#[tokio::test(start_paused = true)]
async fn trips_on_consecutive_failures_and_rejects_until_the_break_is_over() {
    let mut b = Breaker::new(BreakerConfig {
        failure_rate: 1.0, // only the run of failures trips it here
        ..config()
    });
    let t = Instant::now();
    assert_eq!(attempt(&mut b, t, true), Ok(BreakerState::Closed));
    assert_eq!(
        attempt(&mut b, t, false),
        Ok(BreakerState::Closed),
        "a success resets the count"
    );
    for _ in 0..2 {
        assert_eq!(attempt(&mut b, t, true), Ok(BreakerState::Closed));
    }
    let (ticket, _) = b.admit(t).unwrap();
    let opened = b.record(ticket, true, t).expect("it opens");
    assert_eq!(
        (opened.from, opened.to, opened.reason),
        (
            BreakerState::Closed,
            BreakerState::Open,
            "consecutive failures"
        )
    );
    assert_eq!(opened.retry_in, Some(Duration::from_secs(10)));
    assert_eq!(
        b.admit(t + Duration::from_secs(4)).unwrap_err(),
        Duration::from_secs(6)
    );
}

#[tokio::test(start_paused = true)]
async fn trips_on_the_failure_rate_once_min_calls_are_in_the_window() {
    let mut b = Breaker::new(config());
    let t = Instant::now();
    // fail, ok, fail: 2 of 3 failed, but fewer than min_calls (4) in the window.
    for failed in [true, false, true] {
        assert_eq!(attempt(&mut b, t, failed), Ok(BreakerState::Closed));
    }
    assert_eq!(
        attempt(&mut b, t, false),
        Ok(BreakerState::Closed),
        "2 of 4, but a success"
    );
    let (ticket, _) = b.admit(t).unwrap();
    // Window now: ok, fail, ok, fail → 2 of 4 = 0.5 ≥ 0.5.
    assert_eq!(
        b.record(ticket, true, t).map(|x| x.reason),
        Some("failure rate")
    );
}

#[tokio::test(start_paused = true)]
async fn one_probe_after_the_break_closes_on_success_and_reopens_longer_on_failure() {
    let mut b = Breaker::new(config());
    let t = Instant::now();
    for _ in 0..3 {
        let _ = attempt(&mut b, t, true);
    }
    assert_eq!(b.state(), BreakerState::Open);
    let t1 = t + Duration::from_secs(10);
    let (probe, half) = b.admit(t1).unwrap();
    assert_eq!(half.map(|x| x.to), Some(BreakerState::HalfOpen));
    assert!(b.admit(t1).is_err(), "exactly one probe");
    // The probe fails: open again, for 20 s (10 × 2).
    let reopened = b.record(probe, true, t1).unwrap();
    assert_eq!(
        (reopened.reason, reopened.retry_in),
        ("probe failed", Some(Duration::from_secs(20)))
    );
    let t2 = t1 + Duration::from_secs(20);
    let (probe, _) = b.admit(t2).unwrap();
    let again = b.record(probe, true, t2).unwrap();
    assert_eq!(
        again.retry_in,
        Some(Duration::from_secs(25)),
        "capped at max"
    );
    let t3 = t2 + Duration::from_secs(25);
    let (probe, _) = b.admit(t3).unwrap();
    let closed = b.record(probe, false, t3).unwrap();
    assert_eq!(
        (closed.to, closed.reason),
        (BreakerState::Closed, "probe succeeded")
    );
    // The break starts over from `base` after a successful probe.
    for _ in 0..3 {
        let _ = attempt(&mut b, t3, true);
    }
    assert_eq!(b.admit(t3).unwrap_err(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_hanging_probe_lets_another_through_one_break_later_and_late_results_change_nothing() {
    let mut b = Breaker::new(config());
    let t = Instant::now();
    let (early, _) = b.admit(t).unwrap(); // started while closed, ends after the trip
    for _ in 0..3 {
        let _ = attempt(&mut b, t, true);
    }
    assert_eq!(
        b.record(early, false, t),
        None,
        "a result from before the trip is ignored"
    );
    assert_eq!(b.state(), BreakerState::Open);
    let t1 = t + Duration::from_secs(10);
    let (hung, _) = b.admit(t1).unwrap();
    assert_eq!(
        b.admit(t1 + Duration::from_secs(9)).unwrap_err(),
        Duration::from_secs(1)
    );
    let (second, _) = b
        .admit(t1 + Duration::from_secs(10))
        .expect("another probe");
    assert_eq!(
        b.record(hung, false, t1),
        None,
        "the superseded probe changes nothing"
    );
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(
        b.record(second, false, t1).map(|x| x.to),
        Some(BreakerState::Closed)
    );
}
