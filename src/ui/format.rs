//! Short texts for numbers and times, shared by the panes.

use jiff::Timestamp;

/// "12s", "5m", "3h", "2d": one unit, rounded down.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// The age of `since` at `now`, or "" when unknown.
pub fn age_at(now: Timestamp, since: Option<Timestamp>) -> String {
    since.map_or_else(String::new, |t| age(now.as_second() - t.as_second()))
}

/// The first `n` characters of a pod-template hash, as the plugin abbreviates.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..hash.len().min(10)).unwrap_or(hash)
}

/// Cut `text` to `width` characters, marking the cut with "…".
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Cut `text` to `width` characters from the left, keeping its end (the
/// tag of an image is what tells versions apart).
pub fn fit_left(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let mut out = String::from("…");
    out.extend(text.chars().skip(count + 1 - width.max(1)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_use_one_unit() {
        assert_eq!(age(-3), "0s");
        assert_eq!(age(59), "59s");
        assert_eq!(age(60), "1m");
        assert_eq!(age(7199), "1h");
        assert_eq!(age(86400 * 3 + 5), "3d");
    }

    #[test]
    fn fit_marks_the_cut() {
        assert_eq!(fit("checkout", 8), "checkout");
        assert_eq!(fit("checkout", 5), "chec…");
        assert_eq!(
            fit_left("registry.example.com/shop/checkout:v2.5.0", 16),
            "…checkout:v2.5.0"
        );
    }
}
