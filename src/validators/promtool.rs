//! promtool: `check config` of each Prometheus config, `check rules` of its rule file and
//! `test rules` of its alert tests, mapped to the scrape job, rule or alert test.

use std::ffi::OsStr;

use super::{Checked, Context, Input, Job, complaint, narrowed, quoted, yaml_line};
use crate::model::{Component, Prometheus, Service, Version};
use crate::build::{CONFIG_MOUNT, config_file, layout};
use crate::model::versions::prometheus as prometheus_dialect;
use crate::render;

const TOOL: &str = "promtool";

pub fn jobs(input: Input<'_>) -> Vec<Job<'_>> {
    let mut jobs = Vec::new();
    for service in input.stack.services.values() {
        let Component::Prometheus(p) = &service.component else { continue };
        jobs.push(Job::new(TOOL, "check config", config_file(service), move |cx| check_config(cx, input, service, p)));
        if !p.rule_groups.is_empty() {
            let rules = layout::rules_file(service);
            jobs.push(Job::new(TOOL, "check rules", rules.clone(), move |cx| check_rules(cx, input, service, p, &rules)));
            if !p.rule_tests.is_empty() {
                let tests = layout::rule_tests_file(service);
                jobs.push(Job::new(TOOL, "test rules", tests.clone(), move |cx| test_rules(cx, input, service, p, &tests)));
            }
        }
    }
    jobs
}

/// promtool's own version (`promtool, version 2.42.0+ds ...`).
fn version(cx: &Context) -> Option<Version> {
    let out = cx.run(&[OsStr::new("--version")], &[]).ok()?;
    let text = format!("{}{}", out.stdout, out.stderr);
    let word = text.split_whitespace().skip_while(|w| *w != "version").nth(1)?;
    Version::parse(word.split(['+', '-']).next()?)
}

/// The config as the containers see it, with the rule file's path (under [`CONFIG_MOUNT`])
/// pointing into the folder, as the bind mount does at run time. A promtool older than the
/// pinned Prometheus cannot read the newer dialect's forms: it gets the config rendered for
/// its own version, and the report says so.
fn check_config(cx: &Context, input: Input<'_>, service: &Service, p: &Prometheus) -> Result<Checked, String> {
    let file = config_file(service);
    let real = input.build.files.get(&file).ok_or_else(|| format!("the build has no {file}"))?;
    let mut checked = Checked::default();
    let pinned = prometheus_dialect::version(service);
    let mut text = String::from_utf8_lossy(real).into_owned();
    if let Some(own) = version(cx).filter(|v| *v < pinned) {
        let mut stack = input.stack.clone();
        if let Some(s) = stack.services.get_mut(&service.name) {
            s.version = Some(own);
        }
        let older = render::render(&stack).files.get(&file).map(|b| String::from_utf8_lossy(b).into_owned());
        if let Some(older) = older.filter(|o| *o != text) {
            checked.notes.push(format!(
                "promtool {own} is older than the pinned Prometheus {pinned}: it checked {file} as rendered for Prometheus {own}; what only {pinned} reads went unchecked"
            ));
            text = older;
        }
    }
    let configs = cx.dir.join(layout::CONFIG_DIR);
    let localized = text.replace(CONFIG_MOUNT, &configs.to_string_lossy());
    let copy = cx.dir.join(format!("promtool-{}.yml", service.name));
    std::fs::write(&copy, &localized).map_err(|e| format!("cannot write {}: {e}", copy.display()))?;
    let Some(out) = refused(cx, &[OsStr::new("check"), OsStr::new("config"), copy.as_os_str()])? else {
        return Ok(checked);
    };
    // Complaints about the rule file are `check rules`' to report.
    let rules = configs.join(format!("{}.rules.yml", service.name)).to_string_lossy().into_owned();
    let has_rules_check = !p.rule_groups.is_empty();
    let copy_name = copy.to_string_lossy().into_owned();
    let said: Vec<String> = out
        .stderr
        .lines()
        .filter(|l| !(has_rules_check && l.contains(&rules)))
        .map(|l| l.replace(&copy_name, &file).replace(&configs.to_string_lossy().into_owned(), layout::CONFIG_DIR))
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && t != "FAILED:"
        })
        .map(|l| l.trim().trim_start_matches("FAILED: ").to_owned())
        .collect();
    if said.is_empty() && has_rules_check {
        return Ok(checked);
    }
    if said.is_empty() {
        return Err(format!("failed without saying why: {}", out.stdout.trim()));
    }
    let all = said.join("\n");
    let job = quoted(&all)
        .find_map(|name| p.scrape_jobs.iter().find(|j| j.name == name))
        .or_else(|| yaml_line(&all).and_then(|line| job_at_line(&localized, line)).and_then(|i| p.scrape_jobs.get(i)));
    let span = job.map(|j| j.span.clone()).unwrap_or_else(|| service.span.clone());
    let mut d = complaint(&format!("{TOOL} check config"), &file, &span, &all);
    d.notes.extend(checked.notes.iter().cloned());
    checked.diagnostics.push(d);
    Ok(checked)
}

/// promtool says `FAILED` about a file it refuses; without it, the tool itself failed
/// (a bad flag, a crash) and judged nothing.
/// Runs promtool with `args`: `None` when it accepts the file, its output when it judged the
/// file and refused it, an error when it failed without judging.
fn refused(cx: &Context, args: &[&OsStr]) -> Result<Option<super::process::Finished>, String> {
    let out = cx.run(args, &[])?;
    if out.success {
        return Ok(None);
    }
    judged(&out)?;
    Ok(Some(out))
}

fn judged(out: &super::process::Finished) -> Result<(), String> {
    if out.stderr.contains("FAILED") || out.stdout.contains("FAILED") {
        return Ok(());
    }
    Err(format!("failed without judging the file: {}", out.stderr.trim().chars().take(300).collect::<String>()))
}

/// Which scrape job (by index) the 1-based `line` of a rendered config is in.
fn job_at_line(text: &str, line: usize) -> Option<usize> {
    let mut job = None;
    let mut count = 0;
    for (i, l) in text.lines().enumerate() {
        if i + 1 > line {
            break;
        }
        if l.starts_with("  - job_name: ") {
            job = Some(count);
            count += 1;
        } else if !l.starts_with(' ') && !l.starts_with('#') && !l.starts_with("scrape_configs:") {
            job = None;
        }
    }
    job
}

fn check_rules(cx: &Context, input: Input<'_>, service: &Service, p: &Prometheus, file: &str) -> Result<Checked, String> {
    let Some(out) = refused(cx, &[OsStr::new("check"), OsStr::new("rules"), OsStr::new(file)])? else {
        return Ok(Checked::default());
    };
    let text = input.build.files.get(file).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    let mut checked = Checked::default();
    let lines: Vec<&str> = out.stderr.lines().map(str::trim).filter(|l| !l.is_empty() && *l != "FAILED:").collect();
    for line in &lines {
        let said = line.strip_prefix(file).map(|l| l.trim_start_matches(':').trim()).unwrap_or(line);
        let rule = rule_named(p, said).or_else(|| yaml_line(said).and_then(|n| rule_at_line(&text, n)).and_then(|(g, r)| rule_of(p, g, r)));
        let span = match rule {
            Some(r) => narrowed(input.sources, &r.span, needle(said)),
            None => service.span.clone(),
        };
        checked.diagnostics.push(complaint(&format!("{TOOL} check rules"), file, &span, said));
    }
    if checked.diagnostics.is_empty() {
        return Err(format!("failed without saying why: {}", out.stdout.trim()));
    }
    Ok(checked)
}

/// The rule a message names as `group "G", rule N, "name":`.
fn rule_named<'p>(p: &'p Prometheus, said: &str) -> Option<&'p crate::model::Rule> {
    let at = said.find("group \"")?;
    let rest = &said[at + 7..];
    let (group, rest) = rest.split_once('"')?;
    let number: usize = rest.strip_prefix(", rule ")?.split(',').next()?.trim().parse().ok()?;
    let g = p.rule_groups.iter().find(|g| g.name == group)?;
    g.rules.get(number.checked_sub(1)?)
}

fn rule_of(p: &Prometheus, group: usize, rule: usize) -> Option<&crate::model::Rule> {
    p.rule_groups.get(group)?.rules.get(rule)
}

/// (group, rule) indexes of the 1-based `line` of a rendered rule file.
fn rule_at_line(text: &str, line: usize) -> Option<(usize, usize)> {
    let (mut group, mut rule): (Option<usize>, Option<usize>) = (None, None);
    for l in text.lines().take(line) {
        if l.starts_with("  - name: ") {
            group = Some(group.map_or(0, |g| g + 1));
            rule = None;
        } else if l.starts_with("      - ") {
            rule = Some(rule.map_or(0, |r| r + 1));
        }
    }
    Some((group?, rule?))
}

/// The field of a rule a message is about.
fn needle(said: &str) -> Option<&str> {
    if said.contains("expression") {
        return Some("expr");
    }
    for key in ["annotation \"", "label \""] {
        if let Some(at) = said.find(key) {
            return said[at + key.len()..].split('"').next();
        }
    }
    None
}

/// `test rules` prints one block per failed case: `name: <test>,` (when it has a name),
/// then `alertname: A, time: T,` and what was expected and got.
fn test_rules(cx: &Context, input: Input<'_>, service: &Service, p: &Prometheus, file: &str) -> Result<Checked, String> {
    let Some(out) = refused(cx, &[OsStr::new("test"), OsStr::new("rules"), OsStr::new(file)])? else {
        return Ok(Checked::default());
    };
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut named = false;
    for line in out.stderr.lines().filter(|l| !l.trim().is_empty() && l.trim() != "FAILED:") {
        let t = line.trim();
        let starts = t.starts_with("name: ") || (t.starts_with("alertname: ") && !named);
        named = t.starts_with("name: ");
        match blocks.last_mut() {
            Some(b) if !starts => b.push(line.trim_end()),
            _ => blocks.push(vec![line.trim_end()]),
        }
    }
    let mut checked = Checked::default();
    for block in blocks {
        let head = |key: &str| block.iter().find_map(|l| l.trim().strip_prefix(key)).map(|v| v.trim_end_matches([',', ' ']));
        let name = head("name: ");
        let (alert, time) = match head("alertname: ").and_then(|v| v.split_once(", time: ")) {
            Some((a, t)) => (Some(a), Some(t.trim_end_matches([',', ' ']))),
            None => (None, None),
        };
        let test = name
            .and_then(|n| p.rule_tests.iter().find(|t| t.name.as_deref() == Some(n)))
            .or_else(|| {
                p.rule_tests.iter().find(|t| t.cases.iter().any(|c| Some(c.alertname.as_str()) == alert && time.is_some_and(|t| c.eval_time.text() == t)))
            })
            .or_else(|| p.rule_tests.iter().find(|t| t.cases.iter().any(|c| Some(c.alertname.as_str()) == alert)));
        let span = match test {
            Some(t) => narrowed(input.sources, &t.span, time),
            None => p.rule_tests.first().map(|t| t.span.clone()).unwrap_or_else(|| service.span.clone()),
        };
        let summary = match (alert, time) {
            (Some(a), Some(t)) => format!("alert `{a}` at {t} is not what the test expects"),
            _ => block.first().map(|l| l.trim().to_owned()).unwrap_or_default(),
        };
        let mut d = complaint(&format!("{TOOL} test rules"), file, &span, &format!("{summary}\n{}", block.join("\n")));
        let rule = alert.and_then(|a| p.rule_groups.iter().flat_map(|g| &g.rules).find(|r| r.alert.as_deref() == Some(a)));
        if let Some(r) = rule {
            d = d.related(&r.span, "the rule under test");
        }
        checked.diagnostics.push(d);
    }
    if checked.diagnostics.is_empty() {
        return Err(format!("failed without saying why: {}", out.stdout.trim()));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_map_to_jobs_and_rules() {
        let config = "# header\nglobal:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    x: 1\n  - job_name: b\n    y: 2\nstorage:\n  tsdb: {}\n";
        assert_eq!(job_at_line(config, 3), None);
        assert_eq!(job_at_line(config, 6), Some(0));
        assert_eq!(job_at_line(config, 8), Some(1));
        assert_eq!(job_at_line(config, 10), None);
        let rules = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n      - alert: B\n        expr: x\n  - name: h\n    rules:\n      - record: r\n";
        assert_eq!(rule_at_line(rules, 5), Some((0, 0)));
        assert_eq!(rule_at_line(rules, 7), Some((0, 1)));
        assert_eq!(rule_at_line(rules, 10), Some((1, 0)));
        assert_eq!(rule_at_line(rules, 2), None);
    }

    #[test]
    fn needles_name_the_field() {
        assert_eq!(needle("could not parse expression: 1:12: parse error"), Some("expr"));
        assert_eq!(needle(r#"annotation "summary": template: x"#), Some("summary"));
        assert_eq!(needle("something else"), None);
    }
}
