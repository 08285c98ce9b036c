use serde::Serialize;

/// A container image reference, split into the parts obsbuild reasons about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Image {
    /// Exactly as written in the script; this is what compose files get.
    pub reference: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Why an image reference cannot be used as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageProblem {
    Malformed(&'static str),
    Latest,
    NoTag,
    NotExact(String),
}

impl Image {
    /// Parses `repo[:tag][@sha256:digest]`; a `:` after the last `/` starts the tag.
    pub fn parse(reference: &str) -> Result<Image, ImageProblem> {
        let r = reference.trim();
        if r.is_empty() {
            return Err(ImageProblem::Malformed("is empty"));
        }
        if r != reference || r.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ImageProblem::Malformed("contains white space"));
        }
        let (name, digest) = match r.split_once('@') {
            Some((n, d)) => {
                let valid = d.strip_prefix("sha256:").is_some_and(|h| {
                    h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                });
                if !valid {
                    return Err(ImageProblem::Malformed("has a digest that is not `sha256:` and 64 hex digits"));
                }
                (n, Some(d.to_owned()))
            }
            None => (r, None),
        };
        let slash = name.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repository, tag) = match name[slash..].rfind(':') {
            Some(i) => (&name[..slash + i], Some(name[slash + i + 1..].to_owned())),
            None => (name, None),
        };
        let repo_ok = !repository.is_empty()
            && repository
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c));
        if !repo_ok {
            return Err(ImageProblem::Malformed("has a repository name with characters other than a-z, 0-9, `.`, `_`, `-`, `/`"));
        }
        if let Some(t) = &tag {
            let tag_ok = !t.is_empty()
                && t.len() <= 128
                && t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !tag_ok {
                return Err(ImageProblem::Malformed("has a tag with characters other than letters, digits, `.`, `_`, `-`"));
            }
        }
        Ok(Image { reference: r.to_owned(), repository: repository.to_owned(), tag, digest })
    }

    /// Checks that the reference names one exact build: a digest, or a tag with a full
    /// `major.minor.patch` version. `:latest`, no tag and moving tags such as `3.7` or
    /// `stable` are refused unless the user allows floating tags for this image.
    pub fn check_pinned(&self) -> Result<(), ImageProblem> {
        if self.digest.is_some() {
            return Ok(());
        }
        match self.tag.as_deref() {
            None => Err(ImageProblem::NoTag),
            Some("latest") => Err(ImageProblem::Latest),
            Some(t) if Version::parse(t).is_none() => Err(ImageProblem::NotExact(t.to_owned())),
            Some(_) => Ok(()),
        }
    }

    /// The component version the tag names (`v3.14.0` → 3.14.0), if it names one.
    pub fn version(&self) -> Option<Version> {
        self.tag.as_deref().and_then(Version::parse)
    }
}

/// A release version; tags such as `v2.20.0`, `3.7.6-amd64` or `0.159.0` parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version { major, minor, patch }
    }

    /// Parses `[v]MAJOR.MINOR.PATCH[(-|+|_)suffix]`; anything else is not an exact version.
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.strip_prefix('v').unwrap_or(text);
        let core = t.split(['-', '+', '_']).next()?;
        let mut parts = core.split('.');
        let mut next = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version { major: next()?, minor: next()?, patch: next()? };
        parts.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_ports_tags_and_digests() {
        let i = Image::parse("localhost:5000/prom/prometheus:v3.14.0").unwrap();
        assert_eq!(i.repository, "localhost:5000/prom/prometheus");
        assert_eq!(i.tag.as_deref(), Some("v3.14.0"));
        assert_eq!(i.version(), Some(Version::new(3, 14, 0)));
        let d = format!("grafana/loki@sha256:{}", "a".repeat(64));
        assert!(Image::parse(&d).unwrap().check_pinned().is_ok());
        let no_tag = Image::parse("localhost:5000/x").unwrap();
        assert_eq!(no_tag.tag, None);
    }

    #[test]
    fn refuses_floating_tags() {
        let check = |r: &str| Image::parse(r).unwrap().check_pinned();
        assert_eq!(check("grafana/grafana:latest"), Err(ImageProblem::Latest));
        assert_eq!(check("grafana/grafana"), Err(ImageProblem::NoTag));
        assert_eq!(check("grafana/loki:3.7"), Err(ImageProblem::NotExact("3.7".into())));
        assert!(check("grafana/loki:3.7.6").is_ok());
        assert!(check("otel/opentelemetry-collector-contrib:0.159.0").is_ok());
    }

    #[test]
    fn refuses_malformed_references() {
        assert!(Image::parse("Grafana/Loki:1.0.0").is_err());
        assert!(Image::parse("loki:1.0.0 ").is_err());
        assert!(Image::parse("loki@sha256:abc").is_err());
        assert!(Image::parse("loki:").is_err());
    }

    #[test]
    fn versions_order_numerically() {
        assert!(Version::parse("v3.14.0") > Version::parse("3.8.0"));
        assert_eq!(Version::parse("2.42.0+ds"), Some(Version::new(2, 42, 0)));
        assert_eq!(Version::parse("3.7"), None);
        assert_eq!(Version::parse("1.2.3.4"), None);
    }
}
