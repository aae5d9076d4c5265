//! The kubeconfig that points kubectl and kube-rs at the simulated clusters: one cluster per
//! listener (plain http on 127.0.0.1), one context and user each.

use std::path::{Path, PathBuf};

use super::access::User;

/// A context of the written kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimContext {
    /// The context's name, e.g. `sim-prod-eu`.
    pub name: String,
    /// The simulated cluster it points at.
    pub cluster: String,
    /// `http://127.0.0.1:PORT`: the listener that serves this context's user.
    pub server: String,
    /// The user the context acts as.
    pub user: String,
    /// The exec credential plugin the context's kubeconfig user runs for a token
    /// (`<cluster>-token` contexts); other contexts send no credentials.
    pub credential_plugin: Option<PathBuf>,
}

impl SimContext {
    pub(super) fn new(
        name: String,
        cluster: &str,
        server: &str,
        user: &'static User,
        credential_plugin: Option<PathBuf>,
    ) -> Self {
        SimContext {
            name,
            cluster: cluster.to_string(),
            server: server.to_string(),
            user: user.name.to_string(),
            credential_plugin,
        }
    }
}

/// A YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// YAML: names and addresses are plain words, quoted anyway so no value is misread.
pub fn render(contexts: &[SimContext]) -> String {
    let mut clusters = String::new();
    let mut users = String::new();
    let mut context_entries = String::new();
    for c in contexts {
        // One kubeconfig cluster per context: each context's user has its own listener.
        clusters.push_str(&format!(
            "- name: \"{}\"\n  cluster:\n    server: \"{}\"\n",
            c.name, c.server
        ));
        if !users.contains(&format!("\"{}\"", c.user)) {
            match &c.credential_plugin {
                Some(command) => users.push_str(&format!(
                    "- name: \"{}\"\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
                    c.user,
                    quoted(&command.to_string_lossy())
                )),
                None => users.push_str(&format!("- name: \"{}\"\n  user: {{}}\n", c.user)),
            }
        }
        context_entries.push_str(&format!(
            "- name: \"{}\"\n  context:\n    cluster: \"{}\"\n    user: \"{}\"\n",
            c.name, c.name, c.user
        ));
    }
    let current = contexts.first().map(|c| c.name.as_str()).unwrap_or("");
    format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\ncurrent-context: \"{current}\"\nclusters:\n{clusters}users:\n{users}contexts:\n{context_entries}"
    )
}

pub fn write(dir: &Path, contexts: &[SimContext]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("kubeconfig");
    std::fs::write(&path, render(contexts))?;
    Ok(path)
}
