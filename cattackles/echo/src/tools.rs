//! The tools and their pure logic.

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;

/// What every tool takes: the router's payload (`extra` is accepted and ignored).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct CommandArgs {
    /// The rest of the message.
    #[serde(default)]
    pub text: String,
    /// Messages sent before the command.
    #[serde(default)]
    pub accumulated_params: Option<Vec<String>>,
    /// Added by the core: `{"username": …}`.
    #[serde(default)]
    pub extra: Option<serde_json::Value>,
}

const ECHO_USAGE: &str = "Please provide some text to echo. Usage: /echo_echo <your text> or send messages first then use /echo_echo";
const JOKE_USAGE: &str = "Please provide some text to create a joke about. Usage: /echo_joke <your topic> or send a message first then use /echo_joke";

/// `echo`: the accumulated messages joined with `"; "` when there are any, else the text, else
/// the usage message.
pub fn echo_text(text: &str, accumulated: &[String]) -> String {
    if !accumulated.is_empty() {
        accumulated.join("; ")
    } else if !text.trim().is_empty() {
        text.to_owned()
    } else {
        ECHO_USAGE.to_owned()
    }
}

/// `ping`: `pong`, with what it received.
pub fn ping_text(text: &str, accumulated: &[String]) -> String {
    if !accumulated.is_empty() {
        format!("pong (received {} accumulated params)", accumulated.len())
    } else if !text.trim().is_empty() {
        format!("pong (received immediate param: '{text}')")
    } else {
        "pong".to_owned()
    }
}

const JOKES: &[&str] = &[
    "Why did the {} cross the road? To get to the other side of the standup.",
    "I told my cat a joke about {}. It knocked it off the table.",
    "{} walks into a bar. The bartender says: we don't serve your kind here, only JSON.",
    "My therapist says I talk about {} too much. I said that's a retryable error.",
    "There are 10 kinds of people: those who understand {}, and those who time out.",
];

/// `joke`: a joke about the first accumulated message or the text; `Err` with the usage message
/// when there is no topic. The same topic always gets the same joke.
pub fn joke_text(text: &str, accumulated: &[String]) -> Result<String, String> {
    let topic = accumulated
        .first()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .or_else(|| Some(text.trim()).filter(|s| !s.is_empty()))
        .ok_or_else(|| JOKE_USAGE.to_owned())?;
    let pick = topic
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
    Ok(JOKES[pick % JOKES.len()].replace("{}", topic))
}

fn answer(data: Result<String, String>) -> String {
    match data {
        Ok(data) => json!({"data": data, "error": null}).to_string(),
        Err(error) => json!({"data": "", "error": error}).to_string(),
    }
}

/// The MCP server.
#[derive(Clone)]
pub struct EchoCattackle {
    tool_router: ToolRouter<Self>,
}

impl Default for EchoCattackle {
    fn default() -> Self {
        Self::new()
    }
}

#[tool_router(router = tool_router)]
impl EchoCattackle {
    /// A server with the three tools.
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
        }
    }

    /// Echoes the text, or the accumulated messages joined with '; '.
    #[tool(description = "Echoes the text, or the accumulated messages joined with '; '.")]
    pub async fn echo(&self, Parameters(args): Parameters<CommandArgs>) -> String {
        let accumulated = args.accumulated_params.unwrap_or_default();
        answer(Ok(echo_text(&args.text, &accumulated)))
    }

    /// Answers pong.
    #[tool(description = "Answers pong, saying which parameters it received.")]
    pub async fn ping(&self, Parameters(args): Parameters<CommandArgs>) -> String {
        let accumulated = args.accumulated_params.unwrap_or_default();
        answer(Ok(ping_text(&args.text, &accumulated)))
    }

    /// Tells a joke from a built-in list.
    #[tool(description = "Tells a short joke about the text (built-in list, no network).")]
    pub async fn joke(&self, Parameters(args): Parameters<CommandArgs>) -> String {
        let accumulated = args.accumulated_params.unwrap_or_default();
        answer(joke_text(&args.text, &accumulated))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for EchoCattackle {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new("echo-cattackle", env!("CARGO_PKG_VERSION")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn echo_prefers_accumulated_then_text_then_usage() {
        assert_eq!(echo_text("now", &v(&["a", "b"])), "a; b");
        assert_eq!(echo_text("now", &[]), "now");
        assert_eq!(echo_text("  ", &[]), ECHO_USAGE);
    }

    #[test]
    fn ping_says_what_it_received() {
        assert_eq!(
            ping_text("", &v(&["a", "b"])),
            "pong (received 2 accumulated params)"
        );
        assert_eq!(
            ping_text("hi", &[]),
            "pong (received immediate param: 'hi')"
        );
        assert_eq!(ping_text("", &[]), "pong");
    }

    #[test]
    fn joke_needs_a_topic_and_is_stable() {
        assert_eq!(joke_text(" ", &[]), Err(JOKE_USAGE.to_owned()));
        let a = joke_text("cats", &[]).unwrap();
        assert!(a.contains("cats"), "{a}");
        assert_eq!(joke_text("", &v(&["cats", "dogs"])).unwrap(), a);
    }

    #[test]
    fn answers_follow_the_contract() {
        assert_eq!(answer(Ok("x".into())), r#"{"data":"x","error":null}"#);
        assert_eq!(answer(Err("e".into())), r#"{"data":"","error":"e"}"#);
    }
}
