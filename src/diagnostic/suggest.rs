/// The candidate closest to `wrong`, if it is close enough to be what the user meant.
pub fn suggest<'a, I>(wrong: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let wrong_lower = wrong.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate == wrong {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&wrong_lower, &candidate.to_lowercase());
        // Allow one edit in short names, about a third of the length in longer ones.
        let allowed = (candidate.chars().count().max(wrong.chars().count()) / 3).max(1);
        let contains = candidate.len() > 3 && (candidate.contains(wrong) || wrong.contains(candidate));
        if distance <= allowed || contains {
            let score = if distance <= allowed { distance } else { allowed + 1 };
            if best.is_none_or(|(d, c)| score < d || (score == d && candidate < c)) {
                best = Some((score, candidate));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// "did you mean `x`?" or nothing.
pub fn did_you_mean<'a, I>(wrong: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    suggest(wrong, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("lokii", ["loki", "jaeger"]), Some("loki"));
        assert_eq!(suggest("imgae", ["image", "ip"]), Some("image"));
        assert_eq!(suggest("grafana", ["loki", "jaeger"]), None);
        assert_eq!(suggest("Loki", ["loki"]), Some("loki"));
        assert_eq!(suggest("otel", ["otel-collector", "loki"]), Some("otel-collector"));
    }
}
