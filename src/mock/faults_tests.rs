//! One test per fault: what [`plan`] sends instead of the answer, on each wire it differs on.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::scenario::model::{
    DropConnection, HttpStatus, JsonRpcErrorSpec, Latency, Slicer, WsClose,
};
use crate::util::Dur;

fn answer() -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": "hi"}], "isError": false}})
}

fn bytes() -> Vec<u8> {
    to_bytes(&answer())
}

fn on(flavor: Flavor, action: FaultAction) -> Vec<Out> {
    let setting = Setting {
        flavor,
        max_message_size: 64,
    };
    plan(&action, &answer(), setting, Draws::default())
}

fn bytes_plan(action: FaultAction) -> Vec<Out> {
    on(Flavor::Bytes, action)
}

fn sent(out: &Out) -> Value {
    match out {
        Out::Send(b) => serde_json::from_slice(b).expect("a JSON message"),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn secs(s: f64) -> Dur {
    Dur(Duration::from_secs_f64(s))
}

#[test]
fn delay_waits_then_answers() {
    assert_eq!(
        bytes_plan(FaultAction::Delay(secs(2.0))),
        [Out::Sleep(Duration::from_secs(2)), Out::Send(bytes())]
    );
}

#[test]
fn hang_and_never_handshake_never_answer() {
    assert_eq!(bytes_plan(FaultAction::Hang), [Out::Hang]);
    assert_eq!(bytes_plan(FaultAction::NeverHandshake), [Out::Hang]);
    assert_eq!(
        bytes_plan(FaultAction::Timeout(Dur::default())),
        [Out::Hang]
    );
}

#[test]
fn drop_closes_before_mid_or_after_the_answer() {
    let drop = |phase| FaultAction::Drop(DropConnection { phase });
    let closed = Out::Close { exit_code: None };
    assert_eq!(
        bytes_plan(drop(DropPhase::BeforeResponse)),
        std::slice::from_ref(&closed)
    );
    let half = bytes()[..bytes().len() / 2].to_vec();
    assert_eq!(
        bytes_plan(drop(DropPhase::MidResponse)),
        [Out::Raw(half.clone()), closed.clone()]
    );
    assert_eq!(
        on(Flavor::Messages, drop(DropPhase::MidResponse)),
        [Out::Send(half), closed.clone()],
        "a message wire sends half a message whole"
    );
    assert_eq!(
        bytes_plan(drop(DropPhase::AfterResponse)),
        [Out::Send(bytes()), closed]
    );
}

#[test]
fn crash_and_exit_before_handshake_exit_with_their_code() {
    let crash = FaultAction::Crash(Crash {
        exit_code: 3,
        phase: DropPhase::BeforeResponse,
    });
    assert_eq!(bytes_plan(crash), [Out::Close { exit_code: Some(3) }]);
    // On a new connection there is no answer: the plan is the same without one.
    let early = plan(
        &FaultAction::ExitBeforeHandshake,
        &Value::Null,
        Setting {
            flavor: Flavor::Bytes,
            max_message_size: 64,
        },
        Draws::default(),
    );
    assert_eq!(early, [Out::Close { exit_code: Some(1) }]);
}

#[test]
fn jsonrpc_error_and_is_error_answer_the_same_id() {
    let error = FaultAction::JsonRpcError(JsonRpcErrorSpec {
        code: -32603,
        message: "boom".into(),
        data: Some(json!({"why": 1})),
    });
    let out = bytes_plan(error);
    assert_eq!(
        sent(&out[0]),
        json!({"jsonrpc": "2.0", "id": 7, "error": {"code": -32603, "message": "boom", "data": {"why": 1}}})
    );
    let out = bytes_plan(FaultAction::IsError("nope".into()));
    let message = sent(&out[0]);
    assert_eq!(message["id"], 7);
    assert_eq!(message["result"]["isError"], true);
    assert_eq!(message["result"]["content"][0]["text"], "nope");
}

#[test]
fn is_error_keeps_the_modern_result_type() {
    let mut modern = answer();
    modern["result"]["resultType"] = json!("complete");
    let setting = Setting {
        flavor: Flavor::Bytes,
        max_message_size: 64,
    };
    let out = plan(
        &FaultAction::IsError("x".into()),
        &modern,
        setting,
        Draws::default(),
    );
    assert_eq!(sent(&out[0])["result"]["resultType"], "complete");
}

#[test]
fn each_malformed_answer() {
    let m = |kind| bytes_plan(FaultAction::Malformed(kind));
    assert!(
        matches!(&m(Malformed::InvalidJson)[..], [Out::Send(b)] if serde_json::from_slice::<Value>(b).is_err())
    );
    assert_eq!(
        m(Malformed::Truncated),
        [Out::Send(bytes()[..bytes().len() / 2].to_vec())]
    );
    assert_eq!(sent(&m(Malformed::WrongId)[0])["id"], 987_654_321);
    assert_eq!(
        sent(&m(Malformed::WrongShape)[0])["result"]["content"],
        "not a list of blocks"
    );
    let [Out::Send(utf8)] = &m(Malformed::InvalidUtf8)[..] else {
        panic!("one message")
    };
    assert!(std::str::from_utf8(utf8).is_err());
    let [Out::Send(big)] = &m(Malformed::Oversized)[..] else {
        panic!("one message")
    };
    assert!(big.len() > 64, "larger than the client's limit");
    assert_eq!(
        m(Malformed::StrayStdout),
        [
            Out::Raw(b"debug: handling the call\n".to_vec()),
            Out::Send(bytes())
        ]
    );
    assert_eq!(
        on(
            Flavor::Messages,
            FaultAction::Malformed(Malformed::StrayStdout)
        )[0],
        Out::Send(b"debug: handling the call".to_vec())
    );
    assert_eq!(
        m(Malformed::DuplicateResponse),
        [Out::Send(bytes()), Out::Send(bytes())]
    );
}

#[test]
fn http_and_websocket_answers() {
    assert_eq!(
        on(
            Flavor::Http,
            FaultAction::HttpStatus(HttpStatus {
                status: 503,
                retry_after: Some(2)
            })
        ),
        [Out::HttpStatus {
            status: 503,
            retry_after: Some(2)
        }]
    );
    assert_eq!(
        on(Flavor::Http, FaultAction::SessionExpired),
        [Out::SessionExpired]
    );
    assert_eq!(
        on(
            Flavor::Http,
            FaultAction::HttpContentType("text/plain".into())
        ),
        [Out::ContentType("text/plain".into()), Out::Send(bytes())]
    );
    assert_eq!(
        on(
            Flavor::Messages,
            FaultAction::WsClose(WsClose {
                code: 1011,
                reason: "bye".into()
            })
        ),
        [Out::WsClose {
            code: 1011,
            reason: "bye".into()
        }]
    );
}

#[test]
fn latency_adds_its_drawn_jitter_and_never_goes_below_zero() {
    let latency = FaultAction::Latency(Latency {
        latency: secs(1.0),
        jitter: secs(0.5),
    });
    let setting = Setting {
        flavor: Flavor::Bytes,
        max_message_size: 64,
    };
    let out = plan(&latency, &answer(), setting, Draws { jitter: -0.25 });
    assert_eq!(
        out,
        [Out::Sleep(Duration::from_millis(750)), Out::Send(bytes())]
    );
    let out = plan(&latency, &answer(), setting, Draws { jitter: -5.0 });
    assert_eq!(out[0], Out::Sleep(Duration::ZERO));
    let mut rng = fastrand::Rng::with_seed(1);
    let drawn = Draws::for_action(&latency, &mut rng).jitter;
    assert!((-0.5..0.5).contains(&drawn), "{drawn}");
    let none = Draws::for_action(&FaultAction::Hang, &mut rng).jitter;
    assert_eq!(none, 0.0, "other faults draw nothing");
}

#[test]
fn bandwidth_trickles_bytes_or_waits_on_a_message_wire() {
    let all = {
        let mut b = bytes();
        b.push(b'\n');
        b
    };
    let out = bytes_plan(FaultAction::Bandwidth(100));
    let raw: Vec<u8> = out
        .iter()
        .filter_map(|o| match o {
            Out::Raw(b) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(raw, all, "every byte, in 10-byte pieces");
    assert!(out.contains(&Out::Sleep(Duration::from_millis(100))));
    let whole = on(Flavor::Messages, FaultAction::Bandwidth(100));
    assert_eq!(
        whole,
        [
            Out::Sleep(Duration::from_secs_f64(all.len() as f64 / 100.0)),
            Out::Send(bytes())
        ]
    );
}

#[test]
fn slicer_sends_slices_with_pauses() {
    let slicer = FaultAction::Slicer(Slicer {
        size: 10,
        delay: secs(0.01),
    });
    let out = bytes_plan(slicer.clone());
    assert_eq!(out[0], Out::Raw(bytes()[..10].to_vec()));
    assert_eq!(out[1], Out::Sleep(Duration::from_millis(10)));
    let slices = (bytes().len() + 1).div_ceil(10) as u32;
    assert_eq!(
        on(Flavor::Messages, slicer),
        [
            Out::Sleep(Duration::from_millis(10) * slices),
            Out::Send(bytes())
        ]
    );
}

#[test]
fn limit_data_reset_peer_and_timeout_cut_the_connection() {
    assert_eq!(
        bytes_plan(FaultAction::LimitData(5)),
        [
            Out::Raw(bytes()[..5].to_vec()),
            Out::Close { exit_code: None }
        ]
    );
    assert_eq!(
        bytes_plan(FaultAction::LimitData(u64::MAX)).len(),
        2,
        "a limit past the answer sends it all, then closes"
    );
    assert_eq!(
        bytes_plan(FaultAction::ResetPeer),
        [Out::Close { exit_code: None }]
    );
    assert_eq!(
        bytes_plan(FaultAction::Timeout(secs(1.0))),
        [
            Out::Sleep(Duration::from_secs(1)),
            Out::Close { exit_code: None }
        ]
    );
}

#[test]
fn positions_count_from_one_and_probability_draws_only_then() {
    let mut rng = fastrand::Rng::with_seed(7);
    let nth = Matcher {
        nth: Some(2),
        ..Matcher::default()
    };
    let fired: Vec<bool> = (1..=3).map(|c| position_fires(&nth, c, &mut rng)).collect();
    assert_eq!(fired, [false, true, false]);
    let first = Matcher {
        first: Some(2),
        ..Matcher::default()
    };
    let fired: Vec<bool> = (1..=3)
        .map(|c| position_fires(&first, c, &mut rng))
        .collect();
    assert_eq!(fired, [true, true, false]);
    let every = Matcher {
        every: Some(2),
        ..Matcher::default()
    };
    let fired: Vec<bool> = (1..=4)
        .map(|c| position_fires(&every, c, &mut rng))
        .collect();
    assert_eq!(fired, [false, true, false, true]);
    let never = Matcher {
        probability: Some(0.0),
        ..Matcher::default()
    };
    assert!(!position_fires(&never, 1, &mut rng));
    let always = Matcher {
        probability: Some(1.0),
        ..Matcher::default()
    };
    assert!(position_fires(&always, 1, &mut rng));
}
