//! Plain aligned columns for headless output, as kubectl prints them: two
//! spaces between columns, the last one unpadded.

use std::io::Write;

pub fn write(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 == widths.len() {
                text += cell;
            } else {
                text += &format!("{cell:<w$}  ", w = widths[i]);
            }
        }
        text.trim_end().to_string()
    };
    writeln!(out, "{}", line(&mut headers.iter().copied()))?;
    for row in rows {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_line_up_and_the_last_is_not_padded() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["checkout".to_string(), "Paused".into(), "waiting".into()],
            vec!["cart".to_string(), "Healthy".into(), String::new()],
        ];
        super::write(&mut out, &["NAME", "PHASE", "MESSAGE"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME      PHASE    MESSAGE\ncheckout  Paused   waiting\ncart      Healthy\n"
        );
    }
}
