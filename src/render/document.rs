//! A document for people to read, as a few kinds of blocks: written once, then rendered as a
//! self-contained HTML page here or as a PDF (`render::pdf`), so both say the same.

use std::fmt::Write;

/// One block of a document, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// The document's title (one, first).
    Title(String),
    /// A line under the title.
    Subtitle(String),
    /// A section's heading.
    Heading(String),
    Paragraph(String),
    /// An entry of a section: a bold first line and the lines under it.
    Entry {
        title: String,
        lines: Vec<String>,
    },
    /// Small print at the end.
    Note(String),
}

/// A document: its language (BCP 47), the title a viewer shows, and its blocks.
#[derive(Debug, Clone)]
pub struct Document {
    pub lang: &'static str,
    pub title: String,
    pub blocks: Vec<Block>,
}

/// Text as HTML text or attribute value: the five characters that mean something in HTML
/// escaped, and control characters (which no reader needs and some abuse) left out.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// The invisible characters that reorder text (Trojan Source): a reader must see the text as it
/// was written.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Paragraphs of free text as HTML: blank lines part paragraphs, single line breaks stay.
fn paragraphs(text: &str, out: &mut String) {
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let lines: Vec<String> = para.lines().map(escape).collect();
        let _ = writeln!(out, "<p>{}</p>", lines.join("<br>"));
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;\
max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a;background:#fff}\
h1{font-size:2rem;margin-bottom:.25rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid #ccc}\
.subtitle{color:#444;margin-top:0}.entry{margin:.75rem 0}.entry strong{display:block}\
.entry span{display:block;color:#333}.note{font-size:.85rem;color:#555;margin-top:2.5rem}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}.entry{break-inside:avoid}}";

impl Document {
    /// The document as one HTML page that needs nothing else: no script, no external asset,
    /// styles inline, fit for printing.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
            self.lang,
            escape(&self.title)
        );
        for block in &self.blocks {
            match block {
                Block::Title(t) => {
                    let _ = writeln!(out, "<h1>{}</h1>", escape(t));
                }
                Block::Subtitle(t) => {
                    let _ = writeln!(out, "<p class=\"subtitle\">{}</p>", escape(t));
                }
                Block::Heading(t) => {
                    let _ = writeln!(out, "<h2>{}</h2>", escape(t));
                }
                Block::Paragraph(t) => paragraphs(t, &mut out),
                Block::Entry { title, lines } => {
                    let _ = write!(out, "<div class=\"entry\"><strong>{}</strong>", escape(title));
                    for line in lines {
                        let _ = write!(out, "<span>{}</span>", escape(line));
                    }
                    out.push_str("</div>\n");
                }
                Block::Note(t) => {
                    let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(t));
                }
            }
        }
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }

    /// The document's text, block by block, as a reader would read it aloud.
    pub fn text(&self) -> Vec<String> {
        let mut out = Vec::new();
        for block in &self.blocks {
            match block {
                Block::Title(t) | Block::Subtitle(t) | Block::Heading(t) | Block::Paragraph(t) | Block::Note(t) => {
                    out.push(t.clone())
                }
                Block::Entry { title, lines } => {
                    out.push(title.clone());
                    out.extend(lines.iter().cloned());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_drops_controls_and_bidi_overrides() {
        let doc = Document {
            lang: "da",
            title: "<t>".into(),
            blocks: vec![
                Block::Paragraph("a<script>alert(1)</script>&\"'\u{1b}[31m\u{202E}x".into()),
                Block::Entry { title: "<b>".into(), lines: vec!["</span><img src=x>".into()] },
            ],
        };
        let html = doc.to_html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains('\u{1b}') && !html.contains('\u{202E}'), "{html}");
        assert!(html.contains("a&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;[31mx"), "{html}");
        assert!(html.contains("<title>&lt;t&gt;</title>"));
        assert!(!html.contains("http"), "no external asset: {html}");
    }

    #[test]
    fn paragraphs_part_on_blank_lines() {
        let doc = Document { lang: "da", title: "t".into(), blocks: vec![Block::Paragraph("én\nto\n\ntre".into())] };
        assert!(doc.to_html().contains("<p>én<br>to</p>\n<p>tre</p>"));
    }
}
