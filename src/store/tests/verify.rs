//! `verify` accepts intact paths and names every kind of damage.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{problems, sample, store, unlock_tree};
use crate::store::StoreError;

#[test]
fn verify_accepts_intact_paths_and_reports_temporaries_apart() {
    let (_dir, store) = store();
    let p = store.add(&sample(1)).unwrap();
    let q = store.add(&sample(2)).unwrap();
    fs::create_dir(store.store_dir().join(".tmp-x-1-0")).unwrap();
    let report = store.verify().unwrap();
    let mut expected = vec![p.name, q.name];
    expected.sort();
    assert_eq!(report.ok, expected);
    assert!(report.is_ok());
    assert_eq!(report.temporaries, vec![".tmp-x-1-0".to_string()]);
}

#[test]
fn verify_catches_a_flipped_byte() {
    let (_dir, store) = store();
    let p = store.add(&sample(1)).unwrap();
    let file = p.dir.join("configs/otel.yaml");
    unlock_tree(&p.dir);
    let mut bytes = fs::read(&file).unwrap();
    bytes[3] ^= 1;
    fs::write(&file, bytes).unwrap();
    unlock_tree(&p.dir);
    let found = problems(&store, &p.name);
    assert!(
        found.iter().any(|m| m.contains("`configs/otel.yaml` content does not match")),
        "{found:?}"
    );
    assert!(found.iter().any(|m| m.contains("the files hash to")), "{found:?}");
    assert!(found.iter().any(|m| m.contains("writable")), "{found:?}");
    assert!(matches!(store.read(&p), Err(StoreError::Corrupt { .. })));
}

#[test]
fn verify_catches_writable_files_alone() {
    let (_dir, store) = store();
    let p = store.add(&sample(1)).unwrap();
    fs::set_permissions(p.dir.join("docker-compose.yml"), fs::Permissions::from_mode(0o644))
        .unwrap();
    assert_eq!(problems(&store, &p.name), vec!["`docker-compose.yml` is writable (mode 644)"]);
}

#[test]
fn verify_catches_missing_and_extra_files() {
    let (_dir, store) = store();
    let p = store.add(&sample(1)).unwrap();
    let q = store.add(&sample(2)).unwrap();
    unlock_tree(&p.dir);
    fs::remove_file(p.dir.join("configs/loki/loki.yaml")).unwrap();
    unlock_tree(&q.dir);
    fs::write(q.dir.join("configs/extra.yaml"), "x").unwrap();
    for dir in [&p.dir, &q.dir] {
        fs::set_permissions(dir.join("configs"), fs::Permissions::from_mode(0o555)).unwrap();
    }

    let report = store.verify().unwrap();
    assert_eq!(report.damaged.len(), 2);
    let p_problems = problems(&store, &p.name);
    assert!(
        p_problems.iter().any(|m| m == "`configs/loki/loki.yaml` is missing"),
        "{p_problems:?}"
    );
    assert!(p_problems.iter().any(|m| m.contains("`configs/loki` is empty")), "{p_problems:?}");
    let q_problems = problems(&store, &q.name);
    assert!(
        q_problems.iter().any(|m| m.contains("`configs/extra.yaml` is not in the manifest")),
        "{q_problems:?}"
    );
    assert!(q_problems.iter().any(|m| m.contains("the files hash to")), "{q_problems:?}");
}

#[test]
fn verify_catches_a_renamed_directory() {
    let (_dir, store) = store();
    let p = store.add(&sample(1)).unwrap();
    let q = store.add(&sample(2)).unwrap();
    // Swap the two names: each directory now claims the other's hash.
    let tmp = store.store_dir().join("swap");
    fs::rename(&p.dir, &tmp).unwrap();
    fs::rename(&q.dir, &p.dir).unwrap();
    fs::rename(&tmp, &q.dir).unwrap();
    // And a third one renamed to another stack.
    let r = store.add(&sample(3)).unwrap();
    let renamed = store.store_dir().join(format!("{}-prod", &r.name[..32]));
    fs::rename(&r.dir, &renamed).unwrap();

    let report = store.verify().unwrap();
    assert!(report.ok.is_empty(), "{report:?}");
    assert_eq!(report.damaged.len(), 3);
    assert!(problems(&store, &p.name).iter().any(|m| m.contains("the files hash to")));
    let stack_problems = problems(&store, &format!("{}-prod", &r.name[..32]));
    assert!(
        stack_problems.iter().any(|m| m.contains("manifest names stack `demo`")),
        "{stack_problems:?}"
    );
}
