//! Lists the migrations from the `migrations/` folders, so that adding one is
//! adding its two files (`migrations/sqlite/NNNN_name.sql` and the same name
//! under `migrations/postgres/`): `src/store/migrations.rs` embeds the list
//! written here. The build fails when the folders do not name the same
//! migrations, or a file's name is not `NNNN_name.sql`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

const BACKENDS: [(&str, &str); 2] = [("sqlite", "SQLITE"), ("postgres", "POSTGRES")];

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut lists: Vec<BTreeMap<i64, String>> = Vec::new();
    for (dir, _) in BACKENDS {
        let folder = root.join(dir);
        println!("cargo:rerun-if-changed={}", folder.display());
        let mut list = BTreeMap::new();
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", folder.display()));
        for entry in entries {
            let name = entry
                .expect("a readable migrations folder")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let Some(stem) = name.strip_suffix(".sql") else {
                continue;
            };
            let (number, _) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("migrations/{dir}/{name} is not named NNNN_name.sql"));
            let version: i64 = number.parse().unwrap_or_else(|_| {
                panic!("migrations/{dir}/{name} does not start with its number")
            });
            if let Some(other) = list.insert(version, stem.to_string()) {
                panic!(
                    "migrations/{dir} has two migrations numbered {version}: {other} and {stem}"
                );
            }
        }
        lists.push(list);
    }
    if lists[0] != lists[1] {
        panic!(
            "migrations/sqlite and migrations/postgres must name the same migrations:\n  sqlite: {:?}\n  postgres: {:?}",
            lists[0].values().collect::<Vec<_>>(),
            lists[1].values().collect::<Vec<_>>()
        );
    }
    let mut out = String::from("// Written by build.rs from the migrations/ folders.\n");
    for (dir, constant) in BACKENDS {
        writeln!(out, "const {constant}: Embedded = &[").unwrap();
        for (version, stem) in &lists[0] {
            let name = stem.split_once('_').map_or(stem.as_str(), |(_, n)| n);
            let path = root.join(dir).join(format!("{stem}.sql"));
            writeln!(
                out,
                "    ({version}, {name:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        out.push_str("];\n");
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    std::fs::write(&dest, out).expect("write the migrations list");
}
