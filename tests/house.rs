//! The shape of the house (docs/architecture.md), which neither the compiler nor clippy sees:
//! no two source files import each other, round any circle; no handler module imports another;
//! the error type knows nothing of the service but the domain's field errors.
//!
//! Imports are read as text: every `crate::…` and `super::…` path in a file, resolved to the
//! file that defines the longest module prefix of it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/` but `main.rs` (the binary), as its module path
/// (`api::cases::view`; the crate root is `lib`), with its text.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .filter(|f| !f.ends_with("main.rs"))
        .map(|f| {
            let relative = f.strip_prefix(&root).expect("under src").with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            (parts.join("::"), std::fs::read_to_string(&f).expect("a source file"))
        })
        .collect()
}

/// The text of a file without its comments and its `#[cfg(test)]` module: what it imports to work.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod ").next().unwrap_or(text);
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The modules a file uses: each path after `crate::` or `super::`, as the longest module of the
/// tree it names (`crate::api::kit::paging::Page` → `api::kit::paging`). `use a::{b, c}` names both.
fn imports(module: &str, text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let text = code(text);
    let mut found = BTreeSet::new();
    let parent: Vec<&str> = module.split("::").collect();
    // `super` is the module one up: the folder of a file, the parent of a folder's mod.rs.
    let up: Vec<String> = parent[..parent.len().saturating_sub(1)].iter().map(|s| s.to_string()).collect();
    let mut anchors = vec![("crate::".to_string(), Vec::new()), ("super::".to_string(), up)];
    if module == "lib" {
        // The crate root names its own modules without `crate::` (`api::configure`).
        let top: BTreeSet<&str> = modules.iter().filter_map(|m| m.split("::").next()).filter(|m| *m != "lib").collect();
        anchors.extend(top.into_iter().map(|m| (format!("{m}::"), vec![m.to_string()])));
    }
    for (anchor, base) in anchors {
        let anchor = anchor.as_str();
        for (at, _) in text.match_indices(anchor) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c == ':' || c == '_' || c.is_alphanumeric()) {
                continue;
            }
            let rest = &text[at + anchor.len()..];
            let head: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            let mut path = base.clone();
            path.extend(head.split("::").filter(|s| !s.is_empty()).map(str::to_string));
            let mut targets = vec![path.clone()];
            // `use crate::a::{b, c::D}`: each name in the braces.
            if let Some(group) = rest.strip_prefix(head.as_str()).and_then(|r| r.strip_prefix('{')) {
                let inner: String = group.chars().take_while(|c| *c != '}').collect();
                for name in inner.split(',') {
                    let name = name.trim().split(" as ").next().unwrap_or("").trim();
                    let mut p = path.clone();
                    p.extend(name.split("::").filter(|s| !s.is_empty() && *s != "self").map(str::to_string));
                    targets.push(p);
                }
            }
            for target in targets {
                // A path no module of the tree prefixes names an item of the crate root (lib.rs).
                let named = (1..=target.len()).rev().map(|n| target[..n].join("::")).find(|c| modules.contains(c));
                let named = named.unwrap_or_else(|| "lib".to_string());
                if named != module && !module.starts_with(&format!("{named}::")) {
                    found.insert(named);
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let sources = sources();
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    sources.iter().map(|(m, text)| (m.clone(), imports(m, text, &modules))).collect()
}

#[test]
fn no_file_imports_another_round_a_circle() {
    let graph = graph();
    // Depth-first search; a back edge closes a circle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        circles: &mut Vec<String>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = stack.iter().position(|s| s == m) {
            circles.push(format!("{} -> {m}", stack[at..].join(" -> ")));
            return;
        }
        stack.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            visit(next, graph, stack, done, circles);
        }
        stack.pop();
        done.insert(m.to_string());
    }
    let (mut done, mut circles) = (BTreeSet::new(), Vec::new());
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done, &mut circles);
    }
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
    assert!(graph.len() > 40, "the source tree was not read: {} files", graph.len());
}

#[test]
fn no_handler_module_imports_another() {
    let graph = graph();
    // A resource is a file or folder directly under api/, but for the kit every handler uses.
    let resource = |m: &str| -> Option<String> {
        let mut parts = m.split("::");
        (parts.next() == Some("api")).then(|| parts.next().map(str::to_string)).flatten().filter(|r| r != "kit")
    };
    let mut crossings = Vec::new();
    for (m, uses) in &graph {
        let Some(own) = resource(m) else { continue };
        for used in uses {
            if resource(used).is_some_and(|other| other != own) {
                crossings.push(format!("{m} -> {used}"));
            }
        }
    }
    assert!(crossings.is_empty(), "handler modules importing another resource's:\n{}", crossings.join("\n"));
    assert!(graph.keys().filter(|m| resource(m).is_some()).count() > 10, "no handler modules found");
}

#[test]
fn the_error_type_knows_nothing_of_the_service_but_the_domain() {
    let graph = graph();
    let uses = &graph["error"];
    let beyond: Vec<&String> = uses.iter().filter(|m| !m.starts_with("domain")).collect();
    assert!(beyond.is_empty(), "src/error.rs uses {beyond:?}");
}

/// Every link of the README and of `docs/` stays inside the repository: no address elsewhere,
/// and every path names a file or folder that is there.
#[test]
fn no_link_of_the_readme_or_docs_leaves_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut broken = Vec::new();
    let mut links = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("a page");
        let dir = page.parent().expect("a folder");
        for (at, _) in text.match_indices("](") {
            let target: String = text[at + 2..].chars().take_while(|c| *c != ')').collect();
            let target = target.split('#').next().unwrap_or("").trim();
            if target.is_empty() {
                continue; // a link to a heading of the same page
            }
            links += 1;
            let resolved = dir.join(target);
            let inside = resolved.canonicalize().is_ok_and(|p| p.starts_with(root.canonicalize().expect("root")));
            if target.contains("://") || target.starts_with("mailto:") || !inside {
                broken.push(format!("{}: {target}", page.strip_prefix(root).unwrap_or(page).display()));
            }
        }
    }
    assert!(broken.is_empty(), "links that leave the repository or name nothing:\n{}", broken.join("\n"));
    assert!(links > 10, "only {links} links found");
}
