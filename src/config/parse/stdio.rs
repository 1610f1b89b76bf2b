//! The stdio transport's keys and the spawn policy: what can never be spawned (a NUL byte, an
//! env key with `=`) and what would run code nobody asked for (`LD_PRELOAD` and the like) are
//! errors at load, with the key's position; header names and values that can never be sent
//! are too.

use std::ops::Range;

use toml::de::DeTable;

use super::{Val, Walker, find};
use crate::config::SecretMap;
use crate::config::model::{INJECTION_VARIABLES, InheritEnv, StdioTransport};

impl Walker<'_> {
    pub(super) fn stdio(
        &mut self,
        table: &DeTable<'_>,
        span: &Range<usize>,
        prefix: &str,
    ) -> Option<StdioTransport> {
        let command = self.required(table, span, prefix, "command", |w, v, p| {
            w.non_empty_string(v, p).and_then(|s| w.no_nul(v, p, s))
        });
        let args = self.optional(table, prefix, "args", |w, v, p| {
            let args = w.string_array(v, p)?;
            let items = v.get_ref().as_array().map(|a| a.iter().collect::<Vec<_>>());
            let mut ok = true;
            for (i, (arg, item)) in args.iter().zip(items.into_iter().flatten()).enumerate() {
                ok &= w.no_nul(item, &format!("{p}[{i}]"), arg.clone()).is_some();
            }
            ok.then_some(args)
        });
        let env = self.optional(table, prefix, "env", Self::string_map);
        let cwd = self.optional(table, prefix, "cwd", |w, v, p| {
            w.string(v, p).and_then(|s| w.no_nul(v, p, s))
        });
        let inherit_env = self.optional(table, prefix, "inherit_env", Self::inherit_env);
        let allow_env = self.optional(table, prefix, "allow_env", Self::string_array);
        let (env, allow_env) = (env?.unwrap_or_default(), allow_env?.unwrap_or_default());
        if let Some(v) = find(table, "env") {
            self.env_keys(v, &format!("{prefix}env"), &env, &allow_env)?;
        }
        Some(StdioTransport {
            command: command?,
            args: args?.unwrap_or_default(),
            env,
            cwd: cwd?.map(Into::into),
            inherit_env: inherit_env?.unwrap_or_default(),
            allow_env,
        })
    }

    /// `s`, unless it holds a NUL byte (no program, argument or path can).
    fn no_nul(&mut self, v: &Val<'_>, path: &str, s: String) -> Option<String> {
        if s.contains('\0') {
            self.error(
                v.span(),
                format!("`{path}`: holds a NUL byte, which no program, argument or path can"),
            );
            return None;
        }
        Some(s)
    }

    /// `true`, `false`, or the names of the parent's variables to pass on.
    fn inherit_env(&mut self, v: &Val<'_>, path: &str) -> Option<InheritEnv> {
        match v.get_ref().as_bool() {
            Some(true) => Some(InheritEnv::All),
            Some(false) => Some(InheritEnv::Only(Vec::new())),
            None if v.get_ref().as_array().is_some() => {
                self.string_array(v, path).map(InheritEnv::Only)
            }
            None => {
                self.mismatch(v, path, "a boolean or an array of variable names");
                None
            }
        }
    }

    /// Every key of `env` can be set, and none injects code unless `allow_env` names it. Values
    /// are never quoted.
    fn env_keys(
        &mut self,
        v: &Val<'_>,
        path: &str,
        env: &SecretMap,
        allow_env: &[String],
    ) -> Option<()> {
        let table = v.get_ref().as_table()?;
        let mut ok = true;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            if name.is_empty() || name.contains(['=', '\0']) {
                self.error(
                    key.span(),
                    format!(
                        "`{path}`: `{}` cannot name a variable (empty, `=` or a NUL byte)",
                        name.escape_debug()
                    ),
                );
                ok = false;
            } else if INJECTION_VARIABLES.contains(&name) && !allow_env.iter().any(|a| a == name) {
                self.error_with_help(
                    key.span(),
                    format!(
                        "`{path}.{name}` makes the child load or run code it was not asked to: refused"
                    ),
                    Some(format!(
                        "if the cattackle needs it, say so: `allow_env = [\"{name}\"]` in the same table"
                    )),
                );
                ok = false;
            }
            if env.get(name).is_some_and(|s| s.contains('\0')) {
                self.error(
                    value.span(),
                    format!("`{path}.{name}`: the value holds a NUL byte (not shown: env values are secrets)"),
                );
                ok = false;
            }
        }
        ok.then_some(())
    }

    /// `headers`: names and values that an HTTP request can carry. Values are never quoted.
    pub(super) fn headers(&mut self, v: &Val<'_>, path: &str) -> Option<SecretMap> {
        let headers = self.string_map(v, path)?;
        let table = v.get_ref().as_table()?;
        let mut ok = true;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.error_with_help(
                    key.span(),
                    format!("`{path}`: `{}` is not a header name", name.escape_debug()),
                    Some("header names are letters, digits and `-`".to_owned()),
                );
                ok = false;
            } else if headers
                .get(name)
                .is_some_and(|s| reqwest::header::HeaderValue::from_str(s).is_err())
            {
                self.error(
                    value.span(),
                    format!(
                        "`{path}.{name}`: the value cannot be sent in a header (a newline or another control character; not shown: header values are secrets)"
                    ),
                );
                ok = false;
            }
        }
        ok.then_some(headers)
    }
}
