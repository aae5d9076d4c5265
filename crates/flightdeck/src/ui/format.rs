//! Short texts for numbers and times, shared by the panes.

use jiff::Timestamp;

use crate::model::{minute_age, short_age};

/// The age of `since` at `now`, or "" when unknown.
pub fn age_at(now: Timestamp, since: Option<Timestamp>) -> String {
    since.map_or_else(String::new, |t| short_age(now.as_second() - t.as_second()))
}

/// The age of `since` at `now` to the minute, or "" when unknown.
pub fn minute_age_at(now: Timestamp, since: Option<Timestamp>) -> String {
    since.map_or_else(String::new, |t| minute_age(now.as_second() - t.as_second()))
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

/// Cut `text` to `width` characters from the middle, keeping its start and
/// end: `sim-prod-eu-readonly` → `sim-pr…adonly`, so that names that share
/// a prefix (or an EKS ARN's) stay apart.
pub fn fit_middle(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    if width < 3 {
        return text.chars().take(width).collect();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(count - tail));
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

/// 1240.4 → "1,240".
pub fn thousands(value: f64) -> String {
    let whole = value.round().max(0.0) as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1240.4), "1,240");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn fit_middle_keeps_both_ends() {
        assert_eq!(fit_middle("sim-prod-eu-readonly", 13), "sim-pr…adonly");
        assert_eq!(fit_middle("sim-prod-eu", 11), "sim-prod-eu");
        assert_eq!(
            fit_middle("arn:aws:eks:us-east-1:123456789012:cluster/prod-eu", 20),
            "arn:aws:ek…r/prod-eu"
        );
        assert_eq!(fit_middle("abcdef", 2), "ab");
        assert_eq!(fit_middle("abcdef", 3).chars().count(), 3);
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
