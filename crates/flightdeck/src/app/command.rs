//! `:` commands: `:ctx NAME`, `:ns NAME`, `:dora`, `:changes`, `:messages`, `:q`.

use crate::model::Workload;

/// A command line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Command {
    Quit,
    /// `:messages`: every message of this session.
    Messages,
    /// `:dora`: the DORA view.
    Dora,
    /// `:changes`: the changes view.
    Changes,
    /// `None`: every watched context.
    Context(Option<String>),
    /// `None`: every namespace.
    Namespace(Option<String>),
    /// `:kind NAME`: one kind of workload; `None`: all kinds.
    Kind(Option<Workload>),
}

pub(super) fn parse(line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or("");
    let arg = words.next();
    if let Some(extra) = words.next() {
        return Err(format!(":{verb}: unexpected {extra:?}"));
    }
    let scope = |arg: Option<&str>| match arg {
        None | Some("all") | Some("-A") | Some("*") => None,
        Some(name) => Some(name.to_string()),
    };
    match verb {
        "q" | "q!" | "quit" => Ok(Command::Quit),
        "messages" | "mes" | "msg" => Ok(Command::Messages),
        "dora" => Ok(Command::Dora),
        "changes" | "changed" => Ok(Command::Changes),
        "ctx" | "context" => Ok(Command::Context(scope(arg))),
        "ns" | "namespace" => Ok(Command::Namespace(scope(arg))),
        "kind" | "k" => match scope(arg) {
            None => Ok(Command::Kind(None)),
            Some(name) => Workload::parse(&name)
                .map(|w| Command::Kind(Some(w)))
                .ok_or_else(|| {
                    format!(":kind: no kind {name:?} (rollout, canary, deployment or all)")
                }),
        },
        "" => {
            Err("type a command: ctx NAME, ns NAME, kind NAME, dora, changes, messages, q".into())
        }
        other => Err(format!(
            "unknown command :{other} (try :ctx NAME, :ns NAME, :kind NAME, :dora, :changes, :messages, :q)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(parse("q"), Ok(Command::Quit));
        assert_eq!(parse("messages"), Ok(Command::Messages));
        assert_eq!(
            parse(" ctx  prod-eu "),
            Ok(Command::Context(Some("prod-eu".into())))
        );
        assert_eq!(parse("ctx"), Ok(Command::Context(None)));
        assert_eq!(
            parse("kind canary"),
            Ok(Command::Kind(Some(Workload::FlaggerCanary)))
        );
        assert_eq!(parse("kind all"), Ok(Command::Kind(None)));
        assert!(parse("kind pods").unwrap_err().contains("no kind \"pods\""));
        assert_eq!(parse("ns all"), Ok(Command::Namespace(None)));
        assert_eq!(
            parse("ns shop"),
            Ok(Command::Namespace(Some("shop".into())))
        );
        assert!(
            parse("deploy now")
                .unwrap_err()
                .contains("unknown command :deploy")
        );
        assert!(parse("ns a b").unwrap_err().contains("unexpected \"b\""));
    }
}
