//! A [`Document`] as a PDF/A-2b file, A4, in DejaVu Sans embedded (a subset of it, with the
//! Unicode map that lets a reader search and copy the text, æøå included). Lines are broken by
//! measuring the words with the font's own advance widths; pages break where the text runs out
//! of room, and each page says which of how many it is.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Timelike, Utc};
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::text::{Font, TextDirection};
use krilla::{Document as Pdf, SerializeSettings};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::render::document::{is_bidi_control, Block, Document};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points, and the margins.
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const FOOTER: f32 = 22.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Face {
    Regular,
    Bold,
}

/// One line of text placed on a page: where its baseline starts.
struct Line {
    x: f32,
    y: f32,
    face: Face,
    size: f32,
    text: String,
}

/// Measures text in one face.
struct Measure<'a> {
    font: FontRef<'a>,
}

impl<'a> Measure<'a> {
    fn new(data: &'a [u8]) -> Measure<'a> {
        Measure { font: FontRef::new(data).expect("the embedded font is a TrueType font") }
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let charmap = self.font.charmap();
        let metrics = self.font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars().map(|c| charmap.map(c).and_then(|g| metrics.advance_width(g)).unwrap_or(size * 0.6)).sum()
    }

    /// The text broken into lines at most `width` wide: at spaces, and inside a word only when
    /// the word alone is wider than a line.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph_line in text.lines() {
            let mut line = String::new();
            for word in paragraph_line.split_whitespace() {
                let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line is cut where it must be.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if self.width(&piece, size) > width && piece.chars().count() > 1 {
                        piece.pop();
                        lines.push(std::mem::take(&mut piece));
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }
}

/// Text for the PDF's metadata (its title): control and bidirectional-override characters
/// left out, which would make its XMP packet invalid XML and spoof a viewer's title bar.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\t' || c == '\r' || c == '\n' { ' ' } else { c })
        .filter(|c| !(c.is_control() || is_bidi_control(*c)))
        .collect()
}

impl Measure<'_> {
    /// Text as the PDF shows it: control and bidirectional-override characters left out (a
    /// reader must see the text as it was written), and a character the font has no glyph for
    /// (an emoji, a Chinese name) written as `?` — PDF/A forbids the empty `.notdef` glyph, and
    /// a citizen's plan must print whatever was typed into it.
    fn printable(&self, text: &str) -> String {
        let charmap = self.font.charmap();
        text.chars()
            .map(|c| if c == '\t' || c == '\r' { ' ' } else { c })
            .filter(|c| *c == '\n' || !(c.is_control() || is_bidi_control(*c)))
            .map(|c| if c == '\n' || c == ' ' || charmap.map(c).is_some() { c } else { '?' })
            .collect()
    }
}

/// Lays the blocks out on pages: each page a list of lines.
fn layout(doc: &Document) -> Vec<Vec<Line>> {
    let regular = Measure::new(REGULAR);
    let bold = Measure::new(BOLD);
    let width = WIDTH - 2.0 * MARGIN;
    let bottom = HEIGHT - MARGIN - FOOTER;
    let mut pages: Vec<Vec<Line>> = vec![Vec::new()];
    let mut y = MARGIN;

    // Places a run of lines: `keep` lines of it (a heading with what follows) stay together.
    let mut place = |lines: Vec<(Face, f32, String)>, before: f32, keep: usize, y: &mut f32| {
        let height = |(_, size, _): &(Face, f32, String)| size * 1.45;
        let kept: f32 = lines.iter().take(keep.max(1)).map(height).sum();
        *y += before;
        if *y + kept > bottom && !pages.last().expect("a page").is_empty() {
            pages.push(Vec::new());
            *y = MARGIN;
        }
        for (face, size, text) in lines {
            let h = size * 1.45;
            if *y + h > bottom {
                pages.push(Vec::new());
                *y = MARGIN;
            }
            *y += h;
            pages.last_mut().expect("a page").push(Line { x: MARGIN, y: *y - size * 0.35, face, size, text });
        }
    };

    let run = |m: &Measure, face: Face, size: f32, text: &str| -> Vec<(Face, f32, String)> {
        m.wrap(&m.printable(text), size, width).into_iter().map(|l| (face, size, l)).collect()
    };
    for (i, block) in doc.blocks.iter().enumerate() {
        let next_is_entry = matches!(doc.blocks.get(i + 1), Some(Block::Entry { .. } | Block::Paragraph(_)));
        match block {
            Block::Title(t) => place(run(&bold, Face::Bold, 22.0, t), 0.0, 1, &mut y),
            Block::Subtitle(t) => place(run(&regular, Face::Regular, 11.0, t), 2.0, 1, &mut y),
            Block::Heading(t) => {
                // A heading never ends a page: two lines of what follows must fit under it.
                let lines = run(&bold, Face::Bold, 14.0, t);
                let follows = if next_is_entry { 2.0 * 11.0 * 1.45 + 6.0 } else { 0.0 };
                if y + 16.0 + lines.len() as f32 * 14.0 * 1.45 + follows > bottom {
                    y = bottom;
                }
                let keep = lines.len();
                place(lines, 16.0, keep, &mut y)
            }
            Block::Paragraph(t) => {
                for (n, para) in t.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).enumerate() {
                    place(run(&regular, Face::Regular, 11.0, para), if n == 0 { 4.0 } else { 6.0 }, 2, &mut y);
                }
            }
            Block::Entry { title, lines } => {
                let mut all = run(&bold, Face::Bold, 11.0, title);
                for line in lines {
                    all.extend(run(&regular, Face::Regular, 11.0, line));
                }
                let keep = all.len();
                place(all, 6.0, keep, &mut y)
            }
            Block::Note(t) => place(run(&regular, Face::Regular, 9.0, t), 18.0, 2, &mut y),
        }
    }
    pages
}

/// The PDF's creation date, as PDF/A wants it in its metadata.
fn creation_date(now: DateTime<Utc>) -> krilla::metadata::DateTime {
    krilla::metadata::DateTime::new(now.year() as u16)
        .month(now.month() as u8)
        .day(now.day() as u8)
        .hour(now.hour() as u8)
        .minute(now.minute() as u8)
        .second(now.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// The document as a PDF/A-2b file. `page_of(n, total)` writes each page's footer.
pub fn to_pdf(doc: &Document, now: DateTime<Utc>, page_of: impl Fn(usize, usize) -> String) -> Result<Vec<u8>, String> {
    let regular = Font::new(Arc::new(REGULAR.to_vec()).into(), 0).ok_or("the embedded font does not load")?;
    let bold = Font::new(Arc::new(BOLD.to_vec()).into(), 0).ok_or("the embedded bold font does not load")?;
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| format!("PDF/A configuration: {e:?}"))?;
    let settings = SerializeSettings { configuration, ..SerializeSettings::default() };
    let mut pdf = Pdf::new_with(settings);
    pdf.set_metadata(
        Metadata::new()
            .title(plain(&doc.title))
            .language(doc.lang.to_string())
            .creator("Helhed".to_string())
            .creation_date(creation_date(now)),
    );
    let pages = layout(doc);
    let total = pages.len();
    let measure = Measure::new(REGULAR);
    for (n, lines) in pages.into_iter().enumerate() {
        let mut page = pdf.start_page_with(PageSettings::from_wh(WIDTH, HEIGHT).ok_or("page size")?);
        let mut surface = page.surface();
        for line in lines {
            if line.text.is_empty() {
                continue;
            }
            let font = if line.face == Face::Bold { bold.clone() } else { regular.clone() };
            surface.draw_text(Point::from_xy(line.x, line.y), font, line.size, &line.text, false, TextDirection::Auto);
        }
        let footer = page_of(n + 1, total);
        let x = WIDTH - MARGIN - measure.width(&footer, 9.0);
        surface.draw_text(
            Point::from_xy(x, HEIGHT - MARGIN + 8.0),
            regular.clone(),
            9.0,
            &footer,
            false,
            TextDirection::Auto,
        );
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| format!("writing the PDF: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_words_and_lines_wrap_within_the_margins() {
        let m = Measure::new(REGULAR);
        let width = WIDTH - 2.0 * MARGIN;
        let text = format!("{} {}", "ord ".repeat(200), "x".repeat(500));
        let lines = m.wrap(&text, 11.0, width);
        assert!(lines.len() > 5);
        for line in &lines {
            assert!(m.width(line, 11.0) <= width + 0.01, "{line}");
        }
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn text_the_font_cannot_show_still_makes_a_pdf() {
        let doc = Document {
            lang: "da",
            title: "Din plan".into(),
            blocks: vec![
                Block::Title("Din plan 😊".into()),
                Block::Paragraph("王小明 vil gerne \u{0}\u{1b}[31m\u{202E}bo i egen bolig 🏠\u{FFFF}\u{E000}".into()),
                Block::Entry { title: "\u{10FFFF}".into(), lines: vec!["\u{200B}\u{FEFF}\u{3000}x".into()] },
            ],
        };
        let bytes = to_pdf(&doc, Utc::now(), |n, t| format!("Side {n} af {t}")).expect("a PDF/A file");
        assert!(bytes.starts_with(b"%PDF-"));
        let m = Measure::new(REGULAR);
        assert_eq!(m.printable("王 æøå\u{202E} x\u{E000}"), "? æøå x?");
    }

    #[test]
    fn the_title_in_the_metadata_holds_no_control_or_bidi_character() {
        let title = "Din plan – Ctl\u{1}\u{8}\u{1b}[31mName \u{202E}Rev\tx";
        let doc = Document { lang: "da", title: title.into(), blocks: vec![Block::Title("Din plan".into())] };
        let bytes = to_pdf(&doc, Utc::now(), |n, t| format!("Side {n} af {t}")).unwrap();
        let raw = String::from_utf8_lossy(&bytes);
        let xmp = &raw[raw.find("<dc:title>").expect("the XMP title")..];
        let xmp = &xmp[..xmp.find("</dc:title>").unwrap()];
        assert!(xmp.contains("Din plan – Ctl[31mName Rev x"), "{xmp:?}");
        assert!(!xmp.chars().any(|c| c.is_control() || is_bidi_control(c)), "{xmp:?}");
    }

    #[test]
    fn many_entries_flow_onto_more_pages_and_it_is_a_pdf() {
        let mut blocks = vec![Block::Title("Din plan".into()), Block::Heading("Det sker".into())];
        for i in 0..80 {
            blocks.push(Block::Entry {
                title: format!("Indsats {i} æøå"),
                lines: vec!["Ansvarlig: Socialområdet".into()],
            });
        }
        let doc = Document { lang: "da", title: "Din plan".into(), blocks };
        let pages = layout(&doc);
        assert!(pages.len() >= 3, "{} pages", pages.len());
        for page in &pages {
            for line in page {
                assert!(line.y <= HEIGHT - MARGIN - FOOTER + 0.01 && line.y >= MARGIN, "{}", line.y);
            }
        }
        let bytes = to_pdf(&doc, Utc::now(), |n, t| format!("Side {n} af {t}")).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
    }
}
