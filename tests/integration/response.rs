//! The response-parsing matrix of the contract (section 3), one case each, with our fixes.

use cattackle_harness::manager::{CattackleError, CattackleResponse, ErrorKind, parse_call_result};
use rmcp::model::{CallToolResult, ContentBlock};

fn result(blocks: Vec<ContentBlock>, is_error: Option<bool>) -> CallToolResult {
    let mut r = CallToolResult::success(blocks);
    r.is_error = is_error;
    r
}

fn parse_text(text: &str) -> Result<CattackleResponse, CattackleError> {
    parse_call_result("cat", &result(vec![ContentBlock::text(text)], None))
}

fn ok(data: &str, error: Option<&str>, is_error: bool) -> CattackleResponse {
    CattackleResponse {
        data: data.to_owned(),
        error: error.map(str::to_owned),
        is_error,
        data_missing: false,
    }
}

#[test]
fn empty_content_is_success_with_the_originals_error_text() {
    let got = parse_call_result("cat", &result(vec![], None)).unwrap();
    assert_eq!(got, ok("", Some("Empty response from cattackle"), false));
}

#[test]
fn data_and_null_error() {
    assert_eq!(
        parse_text(r#"{"data": "hi", "error": null}"#).unwrap(),
        ok("hi", None, false)
    );
}

#[test]
fn empty_string_error_is_valid_and_kept() {
    assert_eq!(
        parse_text(r#"{"data": "msg", "error": ""}"#).unwrap(),
        ok("msg", Some(""), false)
    );
}

#[test]
fn string_error_is_surfaced() {
    let got = parse_text(r#"{"data": "", "error": "no topic"}"#).unwrap();
    assert_eq!(got, ok("", Some("no topic"), false));
    assert!(got.has_error());
}

#[test]
fn missing_data_is_empty_and_missing_error_is_none() {
    let got = parse_text("{}").unwrap();
    assert_eq!((got.data.as_str(), got.error), ("", None));
    assert!(got.data_missing, "callers can warn that no `data` came");
    assert!(!parse_text(r#"{"data": ""}"#).unwrap().data_missing);
}

#[test]
fn is_error_with_plain_text_is_a_tool_error_carrying_the_servers_text() {
    for text in ["Error executing tool fails: kaboom", "Unknown tool: nosuch"] {
        let err = parse_call_result("cat", &result(vec![ContentBlock::text(text)], Some(true)))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tool, "{text}");
        assert_eq!(err.kind().as_str(), "tool_error");
        assert!(!err.is_retryable(), "the original did not retry it");
        assert_eq!(
            err.to_string(),
            format!("cattackle 'cat' reported a tool error: {text}")
        );
    }
}

#[test]
fn is_error_with_a_contract_body_is_a_response_with_the_flag() {
    let body = r#"{"data": "", "error": "no topic"}"#;
    let got =
        parse_call_result("cat", &result(vec![ContentBlock::text(body)], Some(true))).unwrap();
    assert_eq!(got, ok("", Some("no topic"), true));
}

#[test]
fn quoted_text_is_cut_to_about_200_characters() {
    let long = format!("not json {}", "x".repeat(5000));
    let err = parse_text(&long).unwrap_err().to_string();
    assert!(err.len() < 400, "{err}");
    assert!(err.contains("(5009 bytes in all)"), "{err}");
}

#[test]
fn validation_error_text_is_a_validation_error() {
    let err = parse_text("1 validation error for EchoArgs\ntext\n  Field required").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "Cattackle 'cat' input validation failed: 1 validation error for EchoArgs\ntext\n  Field required"
    );
}

#[test]
fn required_property_text_is_a_validation_error_case_insensitively() {
    let err = parse_text("Input error: 'text' is a REQUIRED PROPERTY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
}

#[test]
fn other_non_json_text_is_invalid_json() {
    let err = parse_text("hello, not json").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidJson);
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "Cattackle 'cat' returned invalid JSON response: expected value at line 1 column 1; it sent \"hello, not json\""
    );
}

#[test]
fn non_object_json_is_a_response_error_not_retried() {
    for (text, found) in [
        ("[1, 2]", "an array"),
        ("42", "a number"),
        ("null", "null"),
        ("\"s\"", "a string"),
    ] {
        let err = parse_text(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{text}");
        assert!(
            !err.is_retryable(),
            "the original retried {text}; we do not"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "Invalid response format from cattackle 'cat': expected a JSON object with `data` and `error`, found {found}: {}",
                serde_json::to_string(text).unwrap()
            )
        );
    }
}

#[test]
fn data_not_a_string_is_a_format_error() {
    let err = parse_text(r#"{"data": 3, "error": null}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Invalid response format from cattackle 'cat': `data` must be a string, found a number: "{\"data\": 3, \"error\": null}""#
    );
    assert!(!err.is_retryable());
}

#[test]
fn error_not_a_string_or_null_is_a_format_error() {
    let err = parse_text(r#"{"data": "x", "error": {"code": 1}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Invalid response format from cattackle 'cat': `error` must be a string or null, found an object: "{\"data\": \"x\", \"error\": {\"code\": 1}}""#
    );
}

#[test]
fn non_text_first_block_is_a_response_error_not_retried() {
    let image = ContentBlock::image("aGk=", "image/png");
    let err =
        parse_call_result("cat", &result(vec![image, ContentBlock::text("{}")], None)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "Invalid response format from cattackle 'cat': the first content block is an image, expected text"
    );
}

#[test]
fn only_the_first_block_is_read() {
    let blocks = vec![
        ContentBlock::text(r#"{"data": "first"}"#),
        ContentBlock::text("not json"),
    ];
    assert_eq!(
        parse_call_result("cat", &result(blocks, None)).unwrap(),
        ok("first", None, false)
    );
}

#[test]
fn is_error_is_visible() {
    let blocks = vec![ContentBlock::text(r#"{"data": "d", "error": null}"#)];
    let got = parse_call_result("cat", &result(blocks, Some(true))).unwrap();
    assert_eq!(got, ok("d", None, true));
    assert!(
        got.has_error(),
        "isError alone marks the response as failed"
    );
}
