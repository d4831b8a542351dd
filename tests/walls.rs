//! The walls between the parts of `src/` (STYLE.md, "The walls, and where the
//! code stands"), checked instead of held by habit.
//!
//! The test reads every `.rs` file under `src/`, drops comments and string
//! literals, and collects each crate-internal path: `use crate::…` (groups
//! expanded), `use super::…` / `self::…` / child-module paths resolved from the
//! file's place in the tree, inline `crate::x::y` paths, and names brought in
//! by a `use` (so `use crate::chat; chat::slack::…` still counts as reaching
//! Slack). `sqlx::…` and the `App`'s `.store` field count as reaching the
//! store. Each path is mapped to the part it reaches and checked against
//! `RULES`, the table in STYLE.md.
//!
//! `KNOWN` is a ratchet: the crossings that existed when this test was
//! written, as (file, part reached) — no line numbers, so moving code does not
//! break it. A crossing not in `KNOWN` fails the test (with file, line and
//! rule): fix it rather than add to the list. When you remove a crossing, the
//! test fails until you delete its `KNOWN` entry too, so the list only shrinks.
//! `cargo test --test walls -- --ignored --nocapture print_known` prints every
//! crossing the scanner sees today, with its lines.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Today's crossings, (file, part it reaches). Only ever delete from this.
const KNOWN: &[(&str, &str)] = &[];

/// Which files a rule is about, by the part they belong to.
enum From {
    Parts(&'static [&'static str]),
    AllExcept(&'static [&'static str]),
}

struct Rule {
    name: &'static str,
    from: From,
    never: &'static [&'static str],
}

/// STYLE.md's table. Part names are those of `part_of_module` (plus `main`,
/// `lib`, and the domain's `async` / `clock read` markers).
const RULES: &[Rule] = &[
    Rule {
        name: "domain never reaches store, http, chat, app, or anything async or clocked",
        from: From::Parts(&["domain"]),
        never: &[
            "store", "http", "chat", "chat::slack", "chat::teams", "chat::sim", "chat::proxy",
            "app", "scheduler", "startup", "clock", "async", "clock read",
        ],
    },
    Rule {
        name: "store never reaches http, chat, app, config (it is handed its settings)",
        from: From::Parts(&["store"]),
        never: &[
            "http", "chat", "chat::slack", "chat::teams", "chat::sim", "chat::proxy", "app",
            "config",
        ],
    },
    Rule {
        name: "the chat port (src/chat/mod.rs) never reaches store, app",
        from: From::Parts(&["chat"]),
        never: &["store", "app"],
    },
    Rule {
        name: "the Slack adapter never reaches store, app, Teams, the local workspace",
        from: From::Parts(&["chat::slack"]),
        never: &["store", "app", "chat::teams", "chat::sim"],
    },
    Rule {
        name: "the Teams adapter never reaches store, app, Slack, the local workspace",
        from: From::Parts(&["chat::teams"]),
        never: &["store", "app", "chat::slack", "chat::sim"],
    },
    Rule {
        name: "the scheduler reaches Slack or Teams only through the port (crate::chat)",
        from: From::Parts(&["scheduler"]),
        never: &["chat::slack", "chat::teams"],
    },
    Rule {
        name: "http and the console never reach the store (they go through the app)",
        from: From::Parts(&["http"]),
        never: &["store"],
    },
    Rule {
        name: "config never reaches platform internals (chat::slack, chat::teams, chat::sim)",
        from: From::Parts(&["config"]),
        never: &["chat::slack", "chat::teams", "chat::sim"],
    },
    Rule {
        name: "nothing in the serving path reaches the local workspace (chat::sim, demo, playground, bench)",
        from: From::AllExcept(&["chat::sim", "demo", "playground", "bench", "cli::local", "lib"]),
        never: &["chat::sim", "demo", "playground", "bench"],
    },
    Rule {
        name: "the command line (main.rs, src/cli/) never reaches the store: its commands go \
               through the app, over the database startup::database opens",
        from: From::Parts(&["main", "cli", "cli::local"]),
        never: &["store"],
    },
];

/// The modules of the local workspace, and the feature that must guard each
/// declaration of them, so that the server build (`--no-default-features`)
/// cannot come to need them: (file, module).
const LOCAL_MODULES: &[(&str, &str)] = &[
    ("src/lib.rs", "bench"),
    ("src/lib.rs", "demo"),
    ("src/lib.rs", "playground"),
    ("src/chat/mod.rs", "sim"),
    ("src/cli/mod.rs", "local"),
];

// ---------------------------------------------------------------------------
// The checks on today's tree.

#[test]
fn walls_hold_apart_from_the_known_crossings() {
    let scan = scan_tree();
    let violations = violations(&scan.references);

    let known: BTreeSet<(&str, &str)> = KNOWN.iter().copied().collect();
    let new: Vec<String> = violations
        .iter()
        .filter(|v| !known.contains(&(v.file.as_str(), v.part.as_str())))
        .map(|v| {
            format!(
                "{}:{}: `{}` reaches {} — breaks \"{}\"",
                v.file,
                v.line,
                v.path,
                v.part,
                v.rules.join("\" and \"")
            )
        })
        .collect();
    let occurring: BTreeSet<(&str, &str)> = violations
        .iter()
        .map(|v| (v.file.as_str(), v.part.as_str()))
        .collect();
    let gone: Vec<String> = KNOWN
        .iter()
        .filter(|entry| !occurring.contains(entry))
        .map(|(file, part)| format!("(\"{file}\", \"{part}\")"))
        .collect();

    let mut message = String::new();
    if !new.is_empty() {
        message += &format!(
            "\nNew crossings of the walls (STYLE.md, \"The walls\"): reach that part \
             through one that may (the app, the chat port). KNOWN only lists the \
             crossings that already existed; it is not the place for new ones.\n{}\n",
            new.join("\n")
        );
    }
    if !gone.is_empty() {
        message += &format!(
            "\nThese KNOWN crossings no longer occur — well done. Delete them from \
             KNOWN in tests/walls.rs, so they cannot come back:\n{}\n",
            gone.join("\n")
        );
    }
    assert!(message.is_empty(), "{message}");
}

#[test]
fn the_local_workspace_is_declared_only_behind_its_feature() {
    for (file, module) in LOCAL_MODULES {
        let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let at = lines
            .iter()
            .position(|l| l.ends_with(&format!("mod {module};")))
            .unwrap_or_else(|| panic!("{file} declares no `mod {module};`"));
        assert!(
            at > 0 && lines[at - 1] == "#[cfg(feature = \"local\")]",
            "{file}: `mod {module};` must follow #[cfg(feature = \"local\")]: the server build leaves the local workspace out"
        );
    }
}

/// The dispatcher asks the app for what it sends and records; it may name
/// the store's row types, but holds no `Store` (issue 19).
#[test]
fn the_scheduler_holds_no_store() {
    let calls: Vec<String> = scan_tree()
        .references
        .iter()
        .filter(|r| r.file.starts_with("src/scheduler/") && r.path == ".store (the Store)")
        .map(|r| format!("{}:{}", r.file, r.line))
        .collect();
    assert!(
        calls.is_empty(),
        "the scheduler reaches the Store; ask the app instead:\n{}",
        calls.join("\n")
    );
}

#[test]
fn known_list_has_no_duplicates() {
    let unique: BTreeSet<_> = KNOWN.iter().collect();
    assert_eq!(unique.len(), KNOWN.len(), "KNOWN lists an entry twice");
}

#[test]
fn scan_reads_the_whole_tree() {
    let scan = scan_tree();
    assert!(
        scan.files > 50,
        "only {} .rs files found under src/",
        scan.files
    );
    let crate_refs = scan
        .references
        .iter()
        .filter(|r| r.path.starts_with("crate::"))
        .count();
    assert!(
        crate_refs > 200,
        "only {crate_refs} crate-internal references found under src/"
    );

    // Every path must land in a module lib.rs (or, for the command line,
    // main.rs) declares: a wrong `super` resolution would show up here as a
    // part that does not exist.
    let mut top: HashSet<String> = HashSet::new();
    for root in ["lib.rs", "main.rs"] {
        let root = fs::read_to_string(src_dir().join(root)).unwrap();
        let toks = tokenize(&strip(&root));
        for w in toks.windows(2) {
            if w[0].text == "mod" {
                top.insert(w[1].text.clone());
            }
        }
    }
    let stray: Vec<String> = scan
        .references
        .iter()
        .filter_map(|r| {
            let first = r.path.strip_prefix("crate::")?.split("::").next()?;
            (!top.contains(first)).then(|| format!("{}:{}: {}", r.file, r.line, r.path))
        })
        .collect();
    assert!(
        stray.is_empty(),
        "paths into no module of lib.rs or main.rs:\n{}",
        stray.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The scanner's own tests, so the check cannot pass by reading nothing.

fn reached(file: &str, src: &str) -> Vec<(usize, String, String)> {
    scan_source(file, src)
        .into_iter()
        .map(|r| (r.line, r.path, r.part))
        .collect()
}

fn parts(file: &str, src: &str) -> BTreeSet<String> {
    scan_source(file, src).into_iter().map(|r| r.part).collect()
}

#[test]
fn grouped_use_is_expanded() {
    let src = "use crate::{store::Store, chat::{self, slack::blocks}, app::{App as A}};\n\
               use crate::domain::*;";
    let got = reached("src/http/x.rs", src);
    let paths: Vec<&str> = got.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "crate::store::Store",
            "crate::chat",
            "crate::chat::slack::blocks",
            "crate::app::App",
            "crate::domain::*"
        ]
    );
    let parts: Vec<&str> = got.iter().map(|(_, _, p)| p.as_str()).collect();
    assert_eq!(parts, ["store", "chat", "chat::slack", "app", "domain"]);
    assert_eq!(got[4].0, 2, "line numbers count from 1");
}

#[test]
fn multi_line_group_reports_the_line_of_each_leaf() {
    let src = "use crate::{\n    domain::Platform,\n    store::Store,\n};";
    let got = reached("src/http/x.rs", src);
    assert_eq!(got[0].0, 2);
    assert_eq!(got[1].0, 3);
}

#[test]
fn super_resolves_from_the_file_location() {
    let got = reached(
        "src/store/metrics.rs",
        "use super::Store;\nuse super::super::app::App;",
    );
    assert_eq!(got[0].1, "crate::store::Store");
    assert_eq!(got[1].1, "crate::app::App");

    // In a mod.rs the module is the directory: `super` is its parent.
    let got = reached("src/chat/teams/mod.rs", "use super::{ChatPort, sim::Sim};");
    assert_eq!(got[0].1, "crate::chat::ChatPort");
    assert_eq!(got[0].2, "chat");
    assert_eq!(got[1].1, "crate::chat::sim::Sim");
    assert_eq!(got[1].2, "chat::sim");

    let got = reached("src/chat/teams/graph.rs", "use super::super::ChatError;");
    assert_eq!(got[0].1, "crate::chat::ChatError");
}

#[test]
fn super_inside_an_inline_module_is_the_file_module() {
    let src =
        "fn f() { if x { } }\n#[cfg(test)]\nmod tests {\n    use super::helper;\n}\nuse super::Y;";
    let got = reached("src/store/metrics.rs", src);
    assert_eq!(got[0].1, "crate::store::metrics::helper");
    assert_eq!(
        got[1].1, "crate::store::Y",
        "after the inline module closes"
    );
}

#[test]
fn comments_and_strings_mentioning_crate_paths_are_ignored() {
    let src = r####"
// use crate::store::Store;
/// crate::store::Store in a doc comment
//! crate::store
/* a block /* nested crate::store */ still crate::store */
fn f<'a>(x: &'a str) -> char {
    let s = "use crate::store::Store; \" crate::store";
    let r = r#"crate::store::"# ;
    let b = b"crate::store";
    let q = '"';
    let e = '\'';
    crate::domain::f(s);
    'x'
}
"####;
    let got = reached("src/http/x.rs", src);
    assert_eq!(
        got,
        [(12, "crate::domain::f".to_string(), "domain".to_string())]
    );
}

#[test]
fn inline_paths_and_sqlx_are_found() {
    let src =
        "fn f() -> Result<(), sqlx::Error> {\n    let s = crate::store::Store::open()?;\n    \
               x.collect::<Vec<_>>();\n    Ok(())\n}";
    let got = reached("src/http/x.rs", src);
    assert_eq!(
        got,
        [
            (1, "sqlx::Error".to_string(), "store".to_string()),
            (
                2,
                "crate::store::Store::open".to_string(),
                "store".to_string()
            )
        ]
    );
}

#[test]
fn the_store_field_counts_as_reaching_the_store() {
    let src =
        "fn f() {\n    state\n        .app\n        .store\n        .ping();\n    x.store(1);\n    app.store().ping();\n}";
    let got = reached("src/http/x.rs", src);
    assert_eq!(
        got,
        [
            (4, ".store (the Store)".to_string(), "store".to_string()),
            (7, ".store (the Store)".to_string(), "store".to_string())
        ]
    );
}

#[test]
fn names_brought_in_by_use_are_followed() {
    // `chat` is the port, but `chat::slack::…` through it is the adapter.
    let src = "use crate::chat::{self, Message};\nfn f() { chat::slack::send(); Message::new(); }";
    let got = reached("src/scheduler/x.rs", src);
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[2],
        (
            2,
            "crate::chat::slack::send".to_string(),
            "chat::slack".to_string()
        )
    );
}

#[test]
fn child_module_paths_and_reexports_resolve() {
    let src = "pub mod sim;\nmod slack;\npub use sim::SimWorkspace;\nfn f() { slack::post(); }";
    let got = reached("src/chat/mod.rs", src);
    assert_eq!(got[0].1, "crate::chat::sim::SimWorkspace");
    assert_eq!(got[1].1, "crate::chat::slack::post");
    let v = violations(&scan_source("src/chat/mod.rs", src));
    assert_eq!(
        v.len(),
        1,
        "the port re-exporting the workspace is a crossing"
    );
    assert_eq!(v[0].part, "chat::sim");
}

#[test]
fn visibility_and_module_declarations_are_not_references() {
    let src =
        "pub(crate) fn a() {}\npub(super) fn b() {}\npub(in crate::store) fn c() {}\nmod sim;";
    assert!(reached("src/store/x.rs", src).is_empty());
}

#[test]
fn domain_must_not_be_async_or_read_a_clock() {
    let src = "async fn f() { g().await; let t = jiff::Timestamp::now(); tokio::spawn(x); }";
    assert_eq!(
        parts("src/domain/x.rs", src),
        ["async".to_string(), "clock read".to_string()].into()
    );
    assert!(
        parts("src/app/x.rs", src).is_empty(),
        "only the domain is held to that"
    );
}

#[test]
fn parts_of_paths_and_files() {
    let p = |s: &str| part_of_module(&s.split("::").map(String::from).collect::<Vec<_>>());
    assert_eq!(p("chat::ChatPort"), "chat");
    assert_eq!(p("chat"), "chat");
    assert_eq!(p("chat::slack::blocks::x"), "chat::slack");
    assert_eq!(p("chat::sim"), "chat::sim");
    assert_eq!(p("store::Store"), "store");
    assert_eq!(part_of_file("src/chat/mod.rs"), "chat");
    assert_eq!(part_of_file("src/chat/teams/cards.rs"), "chat::teams");
    assert_eq!(part_of_file("src/http/slack/events.rs"), "http");
    assert_eq!(part_of_file("src/config.rs"), "config");
    assert_eq!(part_of_file("src/main.rs"), "main");
    assert_eq!(part_of_file("src/cli/org.rs"), "cli");
    assert_eq!(part_of_file("src/cli/local.rs"), "cli::local");
}

#[test]
fn rules_catch_each_kind_of_crossing() {
    let cases = [
        ("src/domain/x.rs", "use crate::store::Store;"),
        ("src/store/x.rs", "use crate::config::Settings;"),
        ("src/chat/mod.rs", "use crate::app::App;"),
        ("src/chat/slack/x.rs", "use crate::chat::teams::Card;"),
        ("src/chat/teams/x.rs", "use crate::chat::sim::Sim;"),
        ("src/scheduler/x.rs", "use crate::chat::slack::Slack;"),
        ("src/http/x.rs", "fn f(e: sqlx::Error) {}"),
        ("src/config.rs", "use crate::chat::teams::TeamsConfig;"),
        ("src/app/x.rs", "use crate::demo::run;"),
        ("src/main.rs", "use momentum::chat::sim::SimWorkspace;"),
        ("src/cli/org.rs", "use momentum::store::Store;"),
        (
            "src/cli/local.rs",
            "fn f() { momentum::store::Store::connect(); }",
        ),
    ];
    for (file, src) in cases {
        assert!(
            !violations(&scan_source(file, src)).is_empty(),
            "{file}: {src}"
        );
    }
    let fine = [
        (
            "src/scheduler/x.rs",
            "use crate::{chat::ChatPort, store::Store, app::App};",
        ),
        ("src/demo.rs", "use crate::chat::sim::Sim;"),
        ("src/chat/sim/x.rs", "use crate::store::Store;"),
        ("src/http/x.rs", "use crate::app::App;"),
        ("src/cli/local.rs", "use momentum::chat::sim::SimWorkspace;"),
        ("src/cli/org.rs", "use momentum::app::App;"),
    ];
    for (file, src) in fine {
        assert!(
            violations(&scan_source(file, src)).is_empty(),
            "{file}: {src}"
        );
    }
}

// ---------------------------------------------------------------------------
// The scanner.

#[derive(Debug)]
struct Reference {
    file: String,
    line: usize,
    /// As resolved: `crate::store::Store`, `sqlx::Error`, `async`.
    path: String,
    /// The part it reaches: `store`, `chat` (the port), `chat::slack`, …
    part: String,
}

#[derive(Debug)]
struct Violation {
    file: String,
    line: usize,
    path: String,
    part: String,
    /// Every rule of `RULES` it breaks (a reach can break two).
    rules: Vec<&'static str>,
}

struct Scan {
    files: usize,
    references: Vec<Reference>,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn scan_tree() -> Scan {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    let mut references = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(root).unwrap();
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let text =
            fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        references.extend(scan_source(&rel.join("/"), &text));
    }
    Scan {
        files: files.len(),
        references,
    }
}

fn violations(references: &[Reference]) -> Vec<Violation> {
    let mut out = Vec::new();
    for r in references {
        let own = part_of_file(&r.file);
        if own == r.part {
            continue;
        }
        let rules: Vec<&'static str> = RULES
            .iter()
            .filter(|rule| match &rule.from {
                From::Parts(ps) => ps.contains(&own.as_str()),
                From::AllExcept(ps) => !ps.contains(&own.as_str()),
            })
            .filter(|rule| rule.never.contains(&r.part.as_str()))
            .map(|rule| rule.name)
            .collect();
        if !rules.is_empty() {
            out.push(Violation {
                file: r.file.clone(),
                line: r.line,
                path: r.path.clone(),
                part: r.part.clone(),
                rules,
            });
        }
    }
    out
}

/// The module a file is, as segments after `crate`.
fn module_of_file(file: &str) -> Vec<String> {
    let rel = file.strip_prefix("src/").unwrap_or(file);
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut segs: Vec<String> = rel.split('/').map(String::from).collect();
    if matches!(
        segs.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segs.pop();
    }
    segs
}

fn part_of_file(file: &str) -> String {
    match file {
        "src/main.rs" => "main".into(),
        "src/lib.rs" => "lib".into(),
        _ => part_of_module(&module_of_file(file)),
    }
}

/// `crate::chat::Foo` is the port; `crate::chat::slack::…` an adapter.
fn part_of_module(segs: &[String]) -> String {
    match segs {
        [] => "crate root".into(),
        [chat, sub, ..]
            if chat == "chat" && ["slack", "teams", "sim", "proxy"].contains(&sub.as_str()) =>
        {
            format!("chat::{sub}")
        }
        // The command line's local workspace commands (demo, sim, bench).
        [cli, local, ..] if cli == "cli" && local == "local" => "cli::local".into(),
        [first, ..] => first.clone(),
    }
}

/// Source with comments and string / char literals blanked out. Newlines stay,
/// so line numbers do too.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        let token_start = i == 0 || !ident(c[i - 1]);
        // Raw strings: r"…", r#"…"#, br"…", cr"…".
        if token_start {
            let mut k = i;
            if (at(k) == 'b' || at(k) == 'c') && at(k + 1) == 'r' {
                k += 1;
            }
            if at(k) == 'r' {
                let mut hashes = 0;
                while at(k + 1 + hashes) == '#' {
                    hashes += 1;
                }
                if at(k + 1 + hashes) == '"' {
                    let mut j = k + 2 + hashes;
                    while j < c.len() && !(c[j] == '"' && (1..=hashes).all(|h| at(j + h) == '#')) {
                        j += 1;
                    }
                    let end = (j + 1 + hashes).min(c.len());
                    for &ch in &c[i..end] {
                        blank(&mut out, ch);
                    }
                    i = end;
                    continue;
                }
            }
        }
        match (c[i], at(i + 1)) {
            ('/', '/') => {
                while i < c.len() && c[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
            ('/', '*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        out.push_str("  ");
                        i += 2;
                    } else if c[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        out.push_str("  ");
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        blank(&mut out, c[i]);
                        i += 1;
                    }
                }
            }
            ('"', _) => {
                let mut j = i + 1;
                while j < c.len() && c[j] != '"' {
                    j += if c[j] == '\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(c.len());
                for &ch in &c[i..end] {
                    blank(&mut out, ch);
                }
                i = end;
            }
            ('\'', next) => {
                // A char literal ('x', '\n', '\u{1F600}', '\''), else a lifetime.
                let end = if next == '\\' {
                    let mut j = i + 3;
                    while j < c.len() && c[j] != '\'' {
                        j += 1;
                    }
                    Some(j + 1)
                } else if at(i + 2) == '\'' {
                    Some(i + 3)
                } else {
                    None
                };
                match end {
                    Some(end) => {
                        let end = end.min(c.len());
                        for &ch in &c[i..end] {
                            blank(&mut out, ch);
                        }
                        i = end;
                    }
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            (ch, _) => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
struct Tok {
    text: String,
    line: usize,
}

/// Identifiers (`$crate` included), `::`, and every other character alone.
fn tokenize(stripped: &str) -> Vec<Tok> {
    let c: Vec<char> = stripped.chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' || ch == '$' {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            toks.push(Tok {
                text: c[start..i].iter().collect(),
                line,
            });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            toks.push(Tok {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            toks.push(Tok {
                text: ch.to_string(),
                line,
            });
            i += 1;
        }
    }
    toks
}

fn is_ident(t: &str) -> bool {
    t.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
}

/// Where a path leads: into this crate, or into `sqlx` (which is the store's).
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Crate(Vec<String>),
    Sqlx(Vec<String>),
}

impl Target {
    fn extend(&self, more: &[String]) -> Target {
        let mut t = self.clone();
        match &mut t {
            Target::Crate(s) | Target::Sqlx(s) => s.extend(more.iter().cloned()),
        }
        t
    }
    fn path(&self) -> String {
        match self {
            Target::Crate(s) if s.is_empty() => "crate".into(),
            Target::Crate(s) => format!("crate::{}", s.join("::")),
            Target::Sqlx(s) => format!("sqlx::{}", s.join("::")),
        }
    }
    fn part(&self) -> String {
        match self {
            Target::Crate(s) => part_of_module(s),
            Target::Sqlx(_) => "store".into(),
        }
    }
}

/// One leaf of a `use` tree, e.g. `use a::{b, c::d as e}` has two.
struct UseLeaf {
    module: usize,
    segs: Vec<String>,
    line: usize,
    alias: Option<String>,
    glob: bool,
}

/// What one file knows while resolving: its modules, their child modules,
/// and the names each module's `use` lines bring in.
struct Names {
    children: HashSet<Vec<String>>,
    bindings: HashMap<Vec<String>, HashMap<String, Target>>,
    globs: HashMap<Vec<String>, Vec<Vec<String>>>,
}

impl Names {
    fn lookup(&self, module: &[String], name: &str, depth: usize) -> Option<Target> {
        if let Some(t) = self.bindings.get(module).and_then(|b| b.get(name)) {
            return Some(t.clone());
        }
        if depth > 4 {
            return None;
        }
        for g in self.globs.get(module).into_iter().flatten() {
            let mut child = g.clone();
            child.push(name.to_string());
            if self.children.contains(&child) {
                return Some(Target::Crate(child));
            }
            if let Some(t) = self.lookup(g, name, depth + 1) {
                return Some(t);
            }
        }
        None
    }

    /// A path as written in `module`; the flag says it went through a name
    /// brought in by `use` (rather than `crate`, `super`, `self`, a child module).
    fn resolve(&self, module: &[String], segs: &[String]) -> Option<(Target, bool)> {
        let first = segs.first()?.as_str();
        match first {
            "crate" | "$crate" | "momentum" => Some((Target::Crate(segs[1..].to_vec()), false)),
            "sqlx" => Some((Target::Sqlx(segs[1..].to_vec()), false)),
            "super" | "self" => {
                let mut m = module.to_vec();
                let mut i = 0;
                while let Some(s) = segs.get(i) {
                    match s.as_str() {
                        "super" => {
                            m.pop()?;
                        }
                        "self" => {}
                        _ => break,
                    }
                    i += 1;
                }
                m.extend(segs[i..].iter().cloned());
                Some((Target::Crate(m), false))
            }
            name => {
                let mut child = module.to_vec();
                child.push(name.to_string());
                if self.children.contains(&child) {
                    child.extend(segs[1..].iter().cloned());
                    return Some((Target::Crate(child), false));
                }
                self.lookup(module, name, 0)
                    .map(|t| (t.extend(&segs[1..]), true))
            }
        }
    }
}

/// Parses one use tree starting at `*i`, pushing its leaves.
fn parse_use_tree(
    toks: &[Tok],
    i: &mut usize,
    module: usize,
    prefix: Vec<String>,
    out: &mut Vec<UseLeaf>,
) {
    let mut segs = prefix;
    if toks.get(*i).is_some_and(|t| t.text == "::") {
        *i += 1;
    }
    while let Some(t) = toks.get(*i) {
        match t.text.as_str() {
            "{" => {
                *i += 1;
                while let Some(t) = toks.get(*i) {
                    match t.text.as_str() {
                        "}" => {
                            *i += 1;
                            break;
                        }
                        "," => *i += 1,
                        ";" => return,
                        _ => {
                            let before = *i;
                            parse_use_tree(toks, i, module, segs.clone(), out);
                            if *i == before {
                                *i += 1;
                            }
                        }
                    }
                }
                return;
            }
            "*" => {
                *i += 1;
                out.push(UseLeaf {
                    module,
                    segs,
                    line: t.line,
                    alias: None,
                    glob: true,
                });
                return;
            }
            s if is_ident(s) => {
                segs.push(s.to_string());
                let line = t.line;
                *i += 1;
                if toks.get(*i).is_some_and(|t| t.text == "::") {
                    *i += 1;
                    continue;
                }
                let mut alias = None;
                if toks.get(*i).is_some_and(|t| t.text == "as") {
                    alias = toks.get(*i + 1).map(|t| t.text.clone());
                    *i += 2;
                }
                out.push(UseLeaf {
                    module,
                    segs,
                    line,
                    alias,
                    glob: false,
                });
                return;
            }
            _ => return,
        }
    }
}

/// Every crate-internal reference in one file (`file` relative to the crate,
/// like `src/store/metrics.rs`).
fn scan_source(file: &str, src: &str) -> Vec<Reference> {
    let toks = tokenize(&strip(src));
    let text = |k: usize| toks.get(k).map(|t| t.text.as_str()).unwrap_or("");

    // Pass 1: which module each token sits in (inline `mod x { … }` included),
    // and which child modules exist.
    let mut modules: Vec<Vec<String>> = vec![module_of_file(file)];
    let mut module_at = vec![0; toks.len()];
    let mut children: HashSet<Vec<String>> = HashSet::new();
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)]; // (module, brace depth it opened at)
    let mut depth = 0;
    let mut opening: Option<usize> = None;
    for (k, slot) in module_at.iter_mut().enumerate() {
        let current = stack.last().unwrap().0;
        *slot = current;
        match text(k) {
            "{" => {
                depth += 1;
                if let Some(m) = opening.take() {
                    stack.push((m, depth));
                }
            }
            "}" => {
                if stack.len() > 1 && stack.last().unwrap().1 == depth {
                    stack.pop();
                }
                depth -= 1;
            }
            "mod" if is_ident(text(k + 1)) && matches!(text(k + 2), "{" | ";") => {
                let mut m = modules[current].clone();
                m.push(text(k + 1).to_string());
                children.insert(m.clone());
                if text(k + 2) == "{" {
                    modules.push(m);
                    opening = Some(modules.len() - 1);
                }
            }
            _ => {}
        }
    }

    // Pass 2: `use` trees.
    let mut leaves = Vec::new();
    let mut in_use = vec![false; toks.len()];
    let mut k = 0;
    while k < toks.len() {
        if text(k) == "use" && text(k + 1) != "<" && (k == 0 || text(k - 1) != "::") {
            let start = k;
            k += 1;
            parse_use_tree(&toks, &mut k, module_at[start], Vec::new(), &mut leaves);
            while k < toks.len() && text(k) != ";" {
                k += 1;
            }
            for flag in &mut in_use[start..(k + 1).min(toks.len())] {
                *flag = true;
            }
        }
        k += 1;
    }

    let mut names = Names {
        children,
        bindings: HashMap::new(),
        globs: HashMap::new(),
    };
    let mut resolved: Vec<Option<Target>> = vec![None; leaves.len()];
    // Twice: a `use` may start from a name another `use` brought in.
    for _ in 0..2 {
        for (n, leaf) in leaves.iter().enumerate() {
            if resolved[n].is_some() {
                continue;
            }
            let module = &modules[leaf.module];
            let mut segs = leaf.segs.clone();
            let bound_name = if segs.last().is_some_and(|s| s == "self") {
                segs.pop();
                segs.last().cloned()
            } else {
                segs.last().cloned()
            };
            let Some((target, _)) = names.resolve(module, &segs) else {
                continue;
            };
            if leaf.glob {
                if let Target::Crate(m) = &target {
                    names
                        .globs
                        .entry(module.clone())
                        .or_default()
                        .push(m.clone());
                }
            } else if let Some(name) = leaf.alias.clone().or(bound_name) {
                if name != "_" {
                    names
                        .bindings
                        .entry(module.clone())
                        .or_default()
                        .insert(name, target.clone());
                }
            }
            resolved[n] = Some(target);
        }
    }

    let mut refs: Vec<Reference> = Vec::new();
    let mut push = |line: usize, path: String, part: String| {
        refs.push(Reference {
            file: file.to_string(),
            line,
            path,
            part,
        });
    };
    for (leaf, target) in leaves.iter().zip(&resolved) {
        if let Some(t) = target {
            let path = if leaf.glob {
                format!("{}::*", t.path())
            } else {
                t.path()
            };
            push(leaf.line, path, t.part());
        }
    }

    // Pass 3: paths in code (`crate::x::y`, `super::f`, `sqlx::Error`, and
    // paths through names a `use` brought in).
    let in_domain = part_of_file(file) == "domain";
    for k in 0..toks.len() {
        let t = text(k);
        if in_domain {
            match t {
                "async" | "await" | "tokio" => push(toks[k].line, t.to_string(), "async".into()),
                "now" if text(k.wrapping_sub(1)) == "::" && text(k + 1) == "(" => {
                    push(toks[k].line, "::now()".into(), "clock read".into())
                }
                _ => {}
            }
        }
        // The `App`'s (and the demo's) `store` field is the `Store`: a handler
        // writing `state.app.store.x()` reaches the store without naming a path.
        // `.store()` is the app's accessor for the service's wiring (an atomic's
        // `.store(v)` takes an argument).
        if t == "store"
            && text(k.wrapping_sub(1)) == "."
            && (text(k + 1) != "(" || text(k + 2) == ")")
        {
            push(toks[k].line, ".store (the Store)".into(), "store".into());
            continue;
        }
        if in_use[k] || !is_ident(t) || text(k + 1) != "::" {
            continue;
        }
        let prev = if k == 0 { "" } else { text(k - 1) };
        if prev == "::" || prev == "." {
            continue;
        }
        // `pub(in crate::x)` is a visibility, not a reach.
        if prev == "in" && k >= 3 && text(k - 2) == "(" && text(k - 3) == "pub" {
            continue;
        }
        let mut segs = vec![t.to_string()];
        let mut j = k + 1;
        while text(j) == "::" && is_ident(text(j + 1)) {
            segs.push(text(j + 1).to_string());
            j += 2;
        }
        let module = &modules[module_at[k]];
        let Some((target, via_name)) = names.resolve(module, &segs) else {
            continue;
        };
        if via_name {
            // Through `use`d name: only news when it leads somewhere else than
            // the `use` line (already counted) did.
            let alias_part = names.resolve(module, &segs[..1]).map(|(t, _)| t.part());
            if alias_part.as_deref() == Some(target.part().as_str()) {
                continue;
            }
        }
        push(toks[k].line, target.path(), target.part());
    }
    refs
}

/// Prints today's crossings as `KNOWN` entries: `cargo test --test walls --
/// --ignored --nocapture print_known`.
#[test]
#[ignore]
fn print_known() {
    let scan = scan_tree();
    let mut by_pair: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for v in violations(&scan.references) {
        by_pair
            .entry((v.file, v.part))
            .or_default()
            .push(format!("{}: {}", v.line, v.path));
    }
    for ((file, part), lines) in by_pair {
        println!("    (\"{file}\", \"{part}\"), // {}", lines.join(", "));
    }
}
