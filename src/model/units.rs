//! Durations, byte sizes and CPU counts: parsed once, when a script's values become the
//! model, into types that cannot overflow later.
//!
//! Each keeps the text the script wrote (config files get it back byte for byte) and the
//! value it means, computed with checked arithmetic and held to the bounds of the component
//! that reads it. Later stages read `value()`; nothing re-parses a string or falls back to
//! a default.

use std::fmt;

use serde::{Serialize, Serializer};

/// How a component reads a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Go's `time.ParseDuration`, as compose and the Docker engine read healthchecks: whole
    /// numbers with `ns`, `us`, `ms`, `s`, `m`, `h`, in any order; at most 2^63-1
    /// nanoseconds (about 292 years), Docker's `int64`.
    Go,
    /// Prometheus' `model.ParseDuration` (Prometheus, Alertmanager, promtool): whole numbers
    /// with `y`, `w`, `d`, `h`, `m`, `s`, `ms`, each at most once and largest first (`1h30m`),
    /// or `0`; at most 2^63-1 milliseconds.
    Prometheus,
}

impl Dialect {
    fn units(self) -> &'static [(&'static str, u128)] {
        const NS: u128 = 1;
        const MS: u128 = 1_000_000;
        const S: u128 = 1_000 * MS;
        match self {
            Dialect::Go => &[("ns", NS), ("us", 1_000), ("µs", 1_000), ("ms", MS), ("s", S), ("m", 60 * S), ("h", 3600 * S)],
            Dialect::Prometheus => &[
                ("y", 365 * 86_400 * S),
                ("w", 7 * 86_400 * S),
                ("d", 86_400 * S),
                ("h", 3600 * S),
                ("m", 60 * S),
                ("s", S),
                ("ms", MS),
            ],
        }
    }

    /// The largest duration the component holds, in nanoseconds.
    fn max_nanos(self) -> u128 {
        match self {
            Dialect::Go => i64::MAX as u128,
            Dialect::Prometheus => i64::MAX as u128 * 1_000_000,
        }
    }

    fn example(self) -> &'static str {
        match self {
            Dialect::Go => "`10s`, `1m30s` or `500ms` (units ns, us, ms, s, m, h; a day is `24h`)",
            Dialect::Prometheus => "`15s`, `5m` or `1h30m` (units ms, s, m, h, d, w, y, largest first)",
        }
    }
}

/// A duration a script wrote, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration {
    text: String,
    value: std::time::Duration,
}

impl Duration {
    /// Parses `text` as `dialect` reads it; the error says what is wrong with it, to follow
    /// the text (`\`1d\` in X` + `is not a duration such as ...`).
    pub fn parse(text: &str, dialect: Dialect) -> Result<Duration, String> {
        let not = || format!("is not a duration such as {}", dialect.example());
        let nanos = match dialect {
            Dialect::Prometheus if text == "0" => 0,
            _ => sum(text, dialect).ok_or_else(not)?,
        };
        if nanos > dialect.max_nanos() {
            let max = match dialect {
                Dialect::Go => "2^63-1 nanoseconds (292 years), the longest Docker and compose hold",
                Dialect::Prometheus => "2^63-1 milliseconds, the longest Prometheus holds",
            };
            return Err(format!("is longer than {max}"));
        }
        let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| not())?;
        let sub = u32::try_from(nanos % 1_000_000_000).map_err(|_| not())?;
        Ok(Duration { text: text.to_owned(), value: std::time::Duration::new(secs, sub) })
    }

    /// Whole seconds, written `<n>s` (read alike by every dialect).
    pub fn from_secs(secs: u64) -> Duration {
        Duration { text: format!("{secs}s"), value: std::time::Duration::from_secs(secs) }
    }

    /// The text as the script wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn value(&self) -> std::time::Duration {
        self.value
    }

    /// Nanoseconds, as Docker's API takes them; within `i64` for a [`Dialect::Go`] value.
    pub fn nanos(&self) -> i64 {
        i64::try_from(self.value.as_nanos()).unwrap_or(i64::MAX)
    }
}

/// The nanoseconds `text` adds up to in `dialect`, `None` if it is not a duration there.
/// Checked: a number or a sum too large for `u128` is no duration either.
fn sum(text: &str, dialect: Dialect) -> Option<u128> {
    let units = dialect.units();
    let mut rest = text;
    let mut total: u128 = 0;
    // Prometheus: each unit once, largest first (the order of `units`).
    let mut next_unit = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 30 {
            return None;
        }
        let n: u128 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // The longest unit that matches (`ms` before `m`).
        let (i, (unit, scale)) = units
            .iter()
            .enumerate()
            .filter(|(_, (u, _))| rest.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())?;
        if dialect == Dialect::Prometheus {
            if i < next_unit {
                return None;
            }
            next_unit = i + 1;
        }
        rest = &rest[unit.len()..];
        total = total.checked_add(n.checked_mul(*scale)?)?;
    }
    Some(total)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A container's memory limit (`512m`, `2g`, `1048576`): binary units, as compose and the
/// docker CLI read them; from 6 MiB (Docker's minimum) to 2^63-1 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memory {
    text: String,
    bytes: i64,
}

/// Docker refuses a memory limit under 6 MiB when the container is created; saying so at
/// build time keeps a switch from failing half way.
pub const MIN_MEMORY: i64 = 6 << 20;

impl Memory {
    pub fn parse(text: &str) -> Result<Memory, String> {
        let lower = text.to_ascii_lowercase();
        let digits = lower.trim_end_matches(['b', 'k', 'm', 'g']);
        let unit: i64 = match &lower[digits.len()..] {
            "" | "b" => 1,
            "k" => 1 << 10,
            "m" => 1 << 20,
            "g" => 1 << 30,
            _ => 0,
        };
        let bytes = (unit > 0 && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse::<i64>().ok())
            .flatten()
            .and_then(|n| n.checked_mul(unit));
        match bytes {
            Some(bytes) if bytes >= MIN_MEMORY => Ok(Memory { text: lower, bytes }),
            Some(_) => Err(format!("`{text}` is below the 6m Docker allows; write at least `6m`")),
            None => Err(format!(
                "`{text}` is not a size Docker takes; write a whole number and a unit b, k, m or g, such as `512m` or `2g` (at most 2^63-1 bytes)"
            )),
        }
    }

    /// The text as compose reads it (lower case).
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn bytes(&self) -> i64 {
        self.bytes
    }
}

impl Serialize for Memory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A CPU limit (`0.5`, `2`): from a hundredth of a CPU (Docker's smallest quota) to 1024,
/// as Docker's `NanoCpus`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cpus {
    text: String,
    /// The number as written, for compose's `cpus:`.
    value: f64,
    nanos: i64,
}

const MIN_NANO_CPUS: i64 = 10_000_000;
const MAX_NANO_CPUS: i64 = 1_024_000_000_000;

impl Cpus {
    pub fn parse(text: &str) -> Result<Cpus, String> {
        // A plain decimal only: Rust's float parser also takes `inf`, `1e3` and `+2`.
        let plain = !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && text.bytes().filter(|b| *b == b'.').count() <= 1
            && text.bytes().any(|b| b.is_ascii_digit());
        let cpus = plain.then(|| text.parse::<f64>().ok()).flatten().filter(|c| c.is_finite());
        // Rounded, not truncated: `0.57 * 1e9` is 569999999.99..., and compose and the
        // docker CLI both give 570000000.
        let nanos = cpus.map(|c| (c * 1e9).round()).filter(|n| *n <= MAX_NANO_CPUS as f64).map(|n| n as i64);
        match nanos {
            Some(n) if n >= MIN_NANO_CPUS => Ok(Cpus { text: text.to_owned(), value: cpus.unwrap_or_default(), nanos: n }),
            Some(_) => Err(format!("`{text}` is below the 0.01 CPUs Docker allows; write one such as `0.5` or `2`")),
            None => Err(format!("`{text}` is not a number of CPUs from 0.01 to 1024; write one such as `0.5` or `2`")),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn nanos(&self) -> i64 {
        self.nanos
    }

    /// The number of CPUs.
    pub fn count(&self) -> f64 {
        self.value
    }
}

impl Serialize for Cpus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// A size as Prometheus reads `--storage.tsdb.retention.size` (`512MB`, `10GB`): a whole
/// number and a unit B, KB, MB, GB, TB, PB or EB, powers of 1024, at most 2^63-1 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusSize {
    text: String,
    bytes: i64,
}

impl PrometheusSize {
    pub fn parse(text: &str) -> Result<PrometheusSize, String> {
        let units: [(&str, u32); 7] = [("KB", 1), ("MB", 2), ("GB", 3), ("TB", 4), ("PB", 5), ("EB", 6), ("B", 0)];
        let bytes = units.iter().find_map(|(u, power)| {
            let digits = text.strip_suffix(u)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<i64>().ok()?.checked_mul(1024i64.checked_pow(*power)?)
        });
        match bytes {
            Some(bytes) => Ok(PrometheusSize { text: text.to_owned(), bytes }),
            None => Err(format!(
                "`{text}` is not a size Prometheus reads; write a whole number and a unit B, KB, MB, GB, TB, PB or EB, such as `10GB`"
            )),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn bytes(&self) -> i64 {
        self.bytes
    }
}

impl fmt::Display for PrometheusSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for PrometheusSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(t: &str) -> Result<std::time::Duration, String> {
        Duration::parse(t, Dialect::Go).map(|d| d.value())
    }

    fn prom(t: &str) -> Result<std::time::Duration, String> {
        Duration::parse(t, Dialect::Prometheus).map(|d| d.value())
    }

    #[test]
    fn go_durations() {
        assert_eq!(go("1m30s"), Ok(std::time::Duration::from_secs(90)));
        assert_eq!(go("500ms"), Ok(std::time::Duration::from_millis(500)));
        assert_eq!(go("1s1s"), Ok(std::time::Duration::from_secs(2)));
        assert_eq!(go("2562047h47m16s854775807ns").map(|d| d.as_nanos()), Ok(i64::MAX as u128));
        for bad in ["", "10", "s", "1.5s", "10 s", "10sec", "1d", "-1s", "+1s", "1h-1m"] {
            assert!(go(bad).is_err(), "{bad}");
        }
        let e = go("18446744073709551615s1s").unwrap_err();
        assert!(e.contains("longer than"), "{e}");
        assert!(go("99999999999999999999h").unwrap_err().contains("longer than"));
        assert!(go("2562047h47m16s854775808ns").unwrap_err().contains("292 years"));
        assert!(go(&"9".repeat(40)).is_err());
        assert!(go(&format!("{}s", "9".repeat(31))).is_err());
    }

    #[test]
    fn prometheus_durations() {
        assert_eq!(prom("1h30m"), Ok(std::time::Duration::from_secs(5400)));
        assert_eq!(prom("15d"), Ok(std::time::Duration::from_secs(15 * 86_400)));
        assert_eq!(prom("1y"), Ok(std::time::Duration::from_secs(365 * 86_400)));
        assert_eq!(prom("1m500ms"), Ok(std::time::Duration::from_millis(60_500)));
        assert_eq!(prom("0"), Ok(std::time::Duration::ZERO));
        for bad in ["30m1h", "1s1s", "1ns", "10us", "1.5h", "", "h", "1mm"] {
            assert!(prom(bad).is_err(), "{bad}");
        }
        assert!(prom("99999999999999999999h").unwrap_err().contains("longer than"));
        assert_eq!(Duration::parse("720h", Dialect::Prometheus).map(|d| d.text().to_owned()), Ok("720h".to_owned()));
    }

    #[test]
    fn sizes_and_cpus() {
        assert_eq!(Memory::parse("512m").map(|m| m.bytes()), Ok(512 << 20));
        assert_eq!(Memory::parse("2G").map(|m| (m.bytes(), m.text().to_owned())), Ok((2 << 30, "2g".to_owned())));
        assert!(Memory::parse("5m").unwrap_err().contains("below"));
        for bad in ["12q", "99999999999999g", "", "m", "1.5g", "-1m"] {
            assert!(Memory::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Cpus::parse("0.57").map(|c| c.nanos()), Ok(570_000_000));
        assert_eq!(Cpus::parse("2").map(|c| c.nanos()), Ok(2_000_000_000));
        for bad in ["0", "NaN", "inf", "1e3", "-1", "+2", "2000", "0.001", "", "."] {
            assert!(Cpus::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PrometheusSize::parse("10GB").map(|s| s.bytes()), Ok(10 << 30));
        assert_eq!(PrometheusSize::parse("512B").map(|s| s.bytes()), Ok(512));
        for bad in ["10gb", "10", "GB", "9999999999EB", "1.5GB"] {
            assert!(PrometheusSize::parse(bad).is_err(), "{bad}");
        }
    }
}
