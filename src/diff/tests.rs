//! Tests of the diff over a realistic pair of builds. The snapshots were checked against
//! `git diff --no-index` (and `--stat --compact-summary`) run on the same files.

use super::*;

const PROMETHEUS_OLD: &str = "\
global:
  scrape_interval: 15s
  evaluation_interval: 15s

rule_files:
  - /etc/prometheus/rules/*.yml

scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets:
          - localhost:9090
  - job_name: otel-collector
    static_configs:
      - targets:
          - otel-collector:8888
";

const PROMETHEUS_NEW: &str = "\
global:
  scrape_interval: 30s
  evaluation_interval: 15s

rule_files:
  - /etc/prometheus/rules/*.yml

scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets:
          - localhost:9090
  - job_name: otel-collector
    static_configs:
      - targets:
          - otel-collector:8888
  - job_name: loki
    static_configs:
      - targets:
          - loki:3100
";

const DASHBOARD_OLD: &str = r#"{
  "title": "Stack overview",
  "uid": "stack-overview",
  "schemaVersion": 39,
  "panels": [
    {
      "id": 1,
      "type": "timeseries",
      "title": "Ingested log lines",
      "datasource": { "type": "loki", "uid": "loki" },
      "targets": [
        {
          "refId": "A",
          "expr": "sum(rate({job=~\".+\"}[5m]))"
        }
      ]
    },
    {
      "id": 2,
      "type": "timeseries",
      "title": "Scrape duration",
      "datasource": { "type": "prometheus", "uid": "prometheus" },
      "targets": [
        {
          "refId": "A",
          "expr": "max by (job) (scrape_duration_seconds)"
        }
      ]
    }
  ]
}
"#;

const ALERTMANAGER: &str = "\
route:
  receiver: default
  group_by: [alertname, job]
receivers:
  - name: default
";

const PROMTAIL: &str = "\
server:
  http_listen_port: 9080
clients:
  - url: http://loki:3100/loki/api/v1/push
";

// Written by hand at some point, so it lacks the final newline editors usually add.
const GRAFANA_INI_OLD: &str = "\
[analytics]
reporting_enabled = false
[auth.anonymous]
enabled = true";

const GRAFANA_INI_NEW: &str = "\
[analytics]
reporting_enabled = false
[auth.anonymous]
enabled = true
org_role = Viewer
";

const COMPOSE: &str = "\
services:
  prometheus:
    image: prom/prometheus:v3.5.0
";

const LOGO_OLD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0";
const LOGO_NEW: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x20\0\0\0\x20\x08\x06\0\0\0\x73\x7a\x7a\xf4";

fn files(entries: &[(&str, &[u8])]) -> Files {
    entries
        .iter()
        .map(|(path, bytes)| ((*path).to_owned(), bytes.to_vec()))
        .collect()
}

const DASHBOARD: &str = "configs/grafana/provisioning/dashboards/json/stack-overview.json";

/// A build before and after a change to its stack script.
fn builds() -> (Files, Files) {
    let dashboard_new = DASHBOARD_OLD.replace(
        "max by (job) (scrape_duration_seconds)",
        "histogram_quantile(0.99, sum by (job, le) (rate(scrape_duration_seconds_bucket[5m])))",
    );
    let old = files(&[
        ("docker-compose.yml", COMPOSE.as_bytes()),
        ("configs/prometheus.yml", PROMETHEUS_OLD.as_bytes()),
        (DASHBOARD, DASHBOARD_OLD.as_bytes()),
        ("configs/promtail.yml", PROMTAIL.as_bytes()),
        ("configs/grafana/grafana.ini", GRAFANA_INI_OLD.as_bytes()),
        ("configs/grafana/logo.png", LOGO_OLD),
    ]);
    let new = files(&[
        ("docker-compose.yml", COMPOSE.as_bytes()),
        ("configs/prometheus.yml", PROMETHEUS_NEW.as_bytes()),
        (DASHBOARD, dashboard_new.as_bytes()),
        ("configs/alertmanager.yml", ALERTMANAGER.as_bytes()),
        ("configs/grafana/grafana.ini", GRAFANA_INI_NEW.as_bytes()),
        ("configs/grafana/logo.png", LOGO_NEW),
    ]);
    (old, new)
}

#[test]
fn lists_only_differing_files_in_path_order() {
    let (old, new) = builds();
    let d = diff(&old, &new);
    let listed: Vec<(&str, Status)> = d
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.status))
        .collect();
    assert_eq!(
        listed,
        [
            ("configs/alertmanager.yml", Status::Added),
            ("configs/grafana/grafana.ini", Status::Changed),
            ("configs/grafana/logo.png", Status::Changed),
            (DASHBOARD, Status::Changed),
            ("configs/prometheus.yml", Status::Changed),
            ("configs/promtail.yml", Status::Removed),
        ]
    );
    let counts: Vec<(usize, usize)> = d
        .files
        .iter()
        .map(|f| (f.insertions, f.deletions))
        .collect();
    assert_eq!(counts, [(5, 0), (2, 1), (0, 0), (1, 1), (5, 1), (0, 4)]);
    assert_eq!((d.insertions(), d.deletions()), (13, 7));
    assert!(d.files[2].is_binary());
    assert_eq!(
        (d.files[2].old_size(), d.files[2].new_size()),
        (LOGO_OLD.len(), LOGO_NEW.len())
    );
}

#[test]
fn unified_plain() {
    let (old, new) = builds();
    insta::assert_snapshot!(diff(&old, &new).unified(Style::Plain));
}

#[test]
fn stat_plain() {
    let (old, new) = builds();
    insta::assert_snapshot!(diff(&old, &new).stat(Style::Plain));
}

#[test]
fn json() {
    let (old, new) = builds();
    let value = diff(&old, &new).to_json();
    insta::assert_snapshot!(serde_json::to_string_pretty(&value).unwrap());
}

#[test]
fn json_totals_match_the_files() {
    let (old, new) = builds();
    let value = diff(&old, &new).to_json();
    assert_eq!(value["equal"], false);
    assert_eq!(value["insertions"], 13);
    assert_eq!(value["deletions"], 7);
    let statuses: Vec<&str> = value["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "added", "changed", "changed", "changed", "changed", "removed"
        ]
    );
    assert_eq!(
        value["files"][2]["diff"],
        "Binary files a/configs/grafana/logo.png and b/configs/grafana/logo.png differ\n"
    );
}

#[test]
fn plain_style_has_no_escape_codes() {
    let (old, new) = builds();
    let d = diff(&old, &new);
    assert!(!d.unified(Style::Plain).contains('\x1b'));
    assert!(!d.stat(Style::Plain).contains('\x1b'));
}

#[test]
fn color_style_paints_headers_hunks_and_changed_lines() {
    let (old, new) = builds();
    let patch = diff(&old, &new).unified(Style::Color);
    let lines: Vec<&str> = patch.lines().collect();
    assert!(lines.contains(&"\x1b[1m--- a/configs/prometheus.yml\x1b[0m"));
    assert!(lines.contains(&"\x1b[1m+++ b/configs/prometheus.yml\x1b[0m"));
    assert!(lines.contains(&"\x1b[1m--- /dev/null\x1b[0m"));
    assert!(lines.contains(&"\x1b[36m@@ -1,5 +1,5 @@\x1b[0m"));
    // The heading after the range is file content, left uncoloured as git does.
    assert!(lines.contains(&"\x1b[36m@@ -14,3 +14,7 @@\x1b[0m scrape_configs:"));
    assert!(lines.contains(&"\x1b[31m-  scrape_interval: 15s\x1b[0m"));
    assert!(lines.contains(&"\x1b[32m+  scrape_interval: 30s\x1b[0m"));
    assert!(
        lines.contains(&"   evaluation_interval: 15s"),
        "context lines stay plain"
    );
    assert!(lines.contains(&"\\ No newline at end of file"));
    for line in &lines {
        let painted = ["\x1b[1m", "\x1b[36m", "\x1b[31m", "\x1b[32m"]
            .iter()
            .any(|c| line.starts_with(c));
        match line.as_bytes().first() {
            Some(b'+' | b'-' | b'@') => panic!("unpainted change line {line:?}"),
            _ if painted => assert!(line.contains("\x1b[0m"), "colour left on in {line:?}"),
            _ => assert!(!line.contains('\x1b'), "stray escape in {line:?}"),
        }
    }

    let stat = diff(&old, &new).stat(Style::Color);
    assert!(
        stat.contains("|   6 \x1b[32m+++++\x1b[0m\x1b[31m-\x1b[0m\n"),
        "{stat}"
    );
    assert!(stat.contains(&format!(
        "Bin \x1b[31m{}\x1b[0m -> \x1b[32m{}\x1b[0m bytes",
        LOGO_OLD.len(),
        LOGO_NEW.len()
    )));
    assert_eq!(strip_ansi(&stat), diff(&old, &new).stat(Style::Plain));
    assert_eq!(strip_ansi(&patch), diff(&old, &new).unified(Style::Plain));
}

fn strip_ansi(s: &str) -> String {
    s.replace("\x1b[0m", "")
        .replace("\x1b[1m", "")
        .replace("\x1b[36m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[32m", "")
}

#[test]
fn equal_builds_give_empty_output() {
    let (old, _) = builds();
    let d = diff(&old, &old.clone());
    assert!(d.is_empty());
    assert_eq!(d.unified(Style::Plain), "");
    assert_eq!(d.unified(Style::Color), "");
    assert_eq!(d.stat(Style::Plain), "");
    assert_eq!(d.stat(Style::Color), "");
    assert_eq!(
        d.to_json(),
        serde_json::json!({ "equal": true, "files": [], "insertions": 0, "deletions": 0 })
    );

    let empty = diff(&Files::new(), &Files::new());
    assert!(empty.is_empty());
    assert_eq!(empty.unified(Style::Plain), "");
}

#[test]
fn output_is_deterministic() {
    let (old, new) = builds();
    let a = diff(&old, &new);
    let b = diff(&old.clone(), &new.clone());
    assert_eq!(a, b);
    assert_eq!(a.unified(Style::Color), b.unified(Style::Color));
    assert_eq!(a.stat(Style::Color), b.stat(Style::Color));
    assert_eq!(a.to_json().to_string(), b.to_json().to_string());
}

#[test]
fn swapping_the_builds_swaps_the_diff() {
    let (old, new) = builds();
    let forward = diff(&old, &new);
    let back = diff(&new, &old);
    assert_eq!(forward.insertions(), back.deletions());
    assert_eq!(forward.deletions(), back.insertions());
    let statuses: Vec<Status> = back.files.iter().map(|f| f.status).collect();
    assert_eq!(statuses[0], Status::Removed);
    assert_eq!(statuses[5], Status::Added);
}

#[test]
fn big_change_keeps_stat_within_80_columns() {
    let long_path =
        "configs/grafana/provisioning/dashboards/json/team-platform/ingest-pipeline.json";
    let old_text: String = (0..3000).map(|i| format!("line {i}\n")).collect();
    let new_text: String = (0..3000).map(|i| format!("line {}\n", i * 7)).collect();
    let old = files(&[(long_path, old_text.as_bytes()), ("small.yml", b"a: 1\n")]);
    let new = files(&[(long_path, new_text.as_bytes()), ("small.yml", b"a: 2\n")]);
    let d = diff(&old, &new);
    let stat = d.stat(Style::Plain);
    for line in stat.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    let lines: Vec<&str> = stat.lines().collect();
    // The long path is cut to its tail after "...", starting at a directory boundary.
    assert!(lines[0].starts_with(" .../"), "{}", lines[0]);
    assert!(lines[0].contains("/team-platform/ingest-pipeline.json"));
    // Like git, the biggest change fills the width but for the last column.
    assert_eq!(lines[0].chars().count(), 79);
    // A one-line change still shows one of each mark.
    assert!(lines[1].ends_with("|    2 +-"), "{}", lines[1]);
    assert!(lines[2].ends_with(" deletions(-)"));
    insta::assert_snapshot!(stat);
}

#[test]
fn big_change_with_short_names_gets_the_rest_of_the_width() {
    let old_text: String = (0..3000).map(|i| format!("line {i}\n")).collect();
    let new_text: String = (0..1000).map(|i| format!("other {i}\n")).collect();
    let old = files(&[("x.yml", old_text.as_bytes()), ("y.yml", b"a: 1\n")]);
    let new = files(&[("x.yml", new_text.as_bytes()), ("y.yml", b"a: 2\nb: 3\n")]);
    // Exactly what `git diff --stat=80` prints for these files.
    let expected = format!(
        " x.yml | 4000 {}{}\n y.yml |    3 +-\n 2 files changed, 1002 insertions(+), 3001 deletions(-)\n",
        "+".repeat(17),
        "-".repeat(48)
    );
    assert_eq!(diff(&old, &new).stat(Style::Plain), expected);
}

#[test]
fn summary_line_uses_singular_for_one() {
    let old = files(&[("a.yml", b"x: 1\n")]);
    let new = files(&[("a.yml", b"x: 2\n")]);
    let stat = diff(&old, &new).stat(Style::Plain);
    assert_eq!(
        stat,
        " a.yml | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\n"
    );

    let only_added = diff(&Files::new(), &new).stat(Style::Plain);
    assert_eq!(
        only_added,
        " a.yml (new) | 1 +\n 1 file changed, 1 insertion(+)\n"
    );

    let only_removed = diff(&old, &Files::new()).stat(Style::Plain);
    assert_eq!(
        only_removed,
        " a.yml (gone) | 1 -\n 1 file changed, 1 deletion(-)\n"
    );

    let binary_only = diff(&files(&[("b", b"\0")]), &files(&[("b", b"\0\0")])).stat(Style::Plain);
    assert_eq!(
        binary_only,
        " b | Bin 1 -> 2 bytes\n 1 file changed, 0 insertions(+), 0 deletions(-)\n"
    );
}

#[test]
fn edge_cases_render_like_git() {
    // A new empty file has nothing to show but its headers.
    let d = diff(&Files::new(), &files(&[("empty", b"")]));
    assert_eq!(d.unified(Style::Plain), "--- /dev/null\n+++ b/empty\n");
    assert_eq!(
        d.stat(Style::Plain),
        " empty (new) | 0\n 1 file changed, 0 insertions(+), 0 deletions(-)\n"
    );

    // Only the final newline changed.
    let d = diff(&files(&[("f", b"a\nb")]), &files(&[("f", b"a\nb\n")]));
    assert_eq!(
        d.unified(Style::Plain),
        "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"
    );

    // Invalid UTF-8 is binary, as is a text file that becomes binary; added binary uses /dev/null.
    let d = diff(
        &files(&[("t", b"text\n")]),
        &files(&[("t", b"\xff\xfe"), ("u", b"\xc3")]),
    );
    assert_eq!(
        d.unified(Style::Plain),
        "Binary files a/t and b/t differ\nBinary files /dev/null and b/u differ\n"
    );

    // Names with spaces get git's trailing tab; control characters are quoted.
    let d = diff(
        &Files::new(),
        &files(&[("my file", b"x\n"), ("tab\there", b"y\n")]),
    );
    assert_eq!(
        d.unified(Style::Plain),
        "--- /dev/null\n+++ b/my file\t\n@@ -0,0 +1 @@\n+x\n--- /dev/null\n+++ \"b/tab\\there\"\n@@ -0,0 +1 @@\n+y\n"
    );

    // CRLF line endings are kept, so the carriage return is visible to whoever checks.
    let d = diff(
        &files(&[("w", b"a\r\nb\r\n")]),
        &files(&[("w", b"a\r\nc\r\n")]),
    );
    assert_eq!(
        d.unified(Style::Plain),
        "--- a/w\n+++ b/w\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"
    );
}

#[test]
fn far_apart_changes_make_separate_hunks() {
    let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
    let new: String = (1..=20)
        .map(|i| match i {
            2 => "two\n".to_owned(),
            19 => "nineteen\n".to_owned(),
            _ => format!("{i}\n"),
        })
        .collect();
    let d = diff(
        &files(&[("n", old.as_bytes())]),
        &files(&[("n", new.as_bytes())]),
    );
    let patch = d.unified(Style::Plain);
    let headers: Vec<&str> = patch.lines().filter(|l| l.starts_with("@@")).collect();
    assert_eq!(headers, ["@@ -1,5 +1,5 @@", "@@ -16,5 +16,5 @@"]);
}

#[test]
fn large_builds_with_few_changes() {
    let body: String = (0..200).map(|i| format!("key_{i}: value\n")).collect();
    let old: Files = (0..1000)
        .map(|i| (format!("configs/{i:04}.yml"), body.clone().into_bytes()))
        .collect();
    let mut new = old.clone();
    for i in [7, 500, 999] {
        let changed = body.replace("key_100: value", "key_100: other");
        new.insert(format!("configs/{i:04}.yml"), changed.into_bytes());
    }
    let d = diff(&old, &new);
    let paths: Vec<&str> = d.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["configs/0007.yml", "configs/0500.yml", "configs/0999.yml"]
    );
    assert!(
        d.files
            .iter()
            .all(|f| (f.insertions, f.deletions) == (1, 1))
    );
}

const PANELS_TWO: &str = r#"{
  "panels": [
    {
      "id": 1,
      "title": "a"
    },
    {
      "id": 2,
      "title": "b"
    }
  ]
}
"#;

const PANELS_THREE: &str = r#"{
  "panels": [
    {
      "id": 1,
      "title": "a"
    },
    {
      "id": 3,
      "title": "c"
    },
    {
      "id": 2,
      "title": "b"
    }
  ]
}
"#;

#[test]
fn an_inserted_json_object_is_shown_whole_like_git() {
    let old = files(&[("d.json", PANELS_TWO.as_bytes())]);
    let new = files(&[("d.json", PANELS_THREE.as_bytes())]);
    // Exactly `git diff`'s hunk; without its indent heuristic the `{` would be split off.
    let expected = r#"@@ -4,6 +4,10 @@
       "id": 1,
       "title": "a"
     },
+    {
+      "id": 3,
+      "title": "c"
+    },
     {
       "id": 2,
       "title": "b"
"#;
    let patch = diff(&old, &new).unified(Style::Plain);
    assert_eq!(
        patch.split_once("+++ b/d.json\n").map(|(_, h)| h),
        Some(expected)
    );

    let removed = diff(&new, &old).unified(Style::Plain);
    let expected_removed = expected
        .replace("@@ -4,6 +4,10 @@", "@@ -4,10 +4,6 @@")
        .replace("\n+", "\n-");
    assert_eq!(
        removed.split_once("+++ b/d.json\n").map(|(_, h)| h),
        Some(expected_removed.as_str())
    );
}

#[test]
fn lone_carriage_returns_do_not_end_lines() {
    let d = diff(&files(&[("m", b"a\rb\n")]), &files(&[("m", b"a\rc\n")]));
    assert_eq!((d.insertions(), d.deletions()), (1, 1));
    assert_eq!(
        d.unified(Style::Plain),
        "--- a/m\n+++ b/m\n@@ -1 +1 @@\n-a\rb\n+a\rc\n"
    );
}

#[test]
fn reordered_large_file_stays_fast() {
    // Plain Myers is quadratic here (seconds in a debug build); the bounded search is not.
    let n = 20_000;
    let old: String = (0..n).map(|i| format!("line {i}\n")).collect();
    let new: String = (0..n).rev().map(|i| format!("line {i}\n")).collect();
    let d = diff(
        &files(&[("r", old.as_bytes())]),
        &files(&[("r", new.as_bytes())]),
    );
    assert_eq!(d.insertions(), d.deletions());
    assert!(d.insertions() >= n - 1);
}
