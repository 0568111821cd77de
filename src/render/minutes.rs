//! The minutes of a meeting as Markdown, in Danish: a pure function from the minutes' view.
//! Everything people wrote is escaped, so no text can forge structure.

use super::danish;
use crate::views::meeting::Minutes;

pub fn kroner(ore: i64) -> String {
    let kr = ore / 100;
    let digits = kr.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    match ore % 100 {
        0 => format!("{grouped} kr."),
        cents => format!("{grouped},{cents:02} kr."),
    }
}

/// The minutes as a document a committee secretary would file. Citizens by name, never CPR.
pub fn render_markdown(m: &Minutes) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "# Referat — {}", md(&m.committee.name));
    let _ = writeln!(out);
    let _ = writeln!(out, "- **Mødedato:** {}", danish::date_time(m.meeting.scheduled_at));
    let _ = writeln!(out, "- **Målgruppe:** {}", danish::track(m.committee.track));
    let _ = writeln!(out, "- **Møde-id:** {}", m.meeting.id);
    let _ = writeln!(out);
    let _ = writeln!(out, "## Til stede");
    let _ = writeln!(out);
    if m.members_present.is_empty() {
        let _ = writeln!(out, "Ingen afgørelser registreret.");
    }
    for member in &m.members_present {
        let _ = writeln!(
            out,
            "- {} ({}, {})",
            md(&member.name),
            danish::department(member.department),
            danish::member_role(member.role)
        );
    }
    for (n, item) in m.items.iter().enumerate() {
        let d = &item.decision;
        let _ = writeln!(out);
        let _ = writeln!(out, "## {}. {} — {}", n + 1, md(&item.citizen.name), danish::decision_kind(d.kind));
        let _ = writeln!(out);
        let p = &d.citizen_participation;
        let participation = if p.took_part {
            match p.form {
                Some(form) => format!("deltog {}", danish::participation_form(form)),
                None => "deltog".to_string(),
            }
        } else {
            format!("deltog ikke — {}", md(p.reason_not.as_deref().unwrap_or("")))
        };
        let _ = writeln!(out, "- **Borgerens deltagelse:** {participation}");
        if let Some(view) = &p.citizen_view {
            let _ = writeln!(out, "- **Borgerens synspunkt:** {}", md(view));
        }
        if let Some(c) = &d.coordinator {
            let _ = writeln!(
                out,
                "- **Koordinerende sagsbehandler:** {} ({})",
                md(&c.name),
                danish::department(c.department)
            );
        }
        if let Some(frame) = d.budget_frame_ore {
            let _ = writeln!(out, "- **Budget- og handlingsramme:** {}", kroner(frame));
        }
        if let Some(date) = d.follow_up_on {
            let _ = writeln!(out, "- **Opfølgning:** {}", danish::date(date));
        }
        if let Some(reason) = d.closure_reason {
            let _ = writeln!(out, "- **Afslutningsårsag:** {}", danish::closure_reason(reason));
        }
        if let Some(group) = &d.background_group {
            let names: Vec<String> = group
                .iter()
                .map(|g| format!("{} ({}, {})", md(&g.name), danish::department(g.department), danish::side(g.side)))
                .collect();
            let _ = writeln!(out, "- **Baggrundsgruppe:** {}", names.join("; "));
        }
        if let Some(note) = &d.note {
            let _ = writeln!(out, "- **Bemærkninger:** {}", md(note));
        }
        if let Some(plan) = &item.plan {
            let _ = writeln!(out);
            let _ = writeln!(out, "### {}, version {}", danish::plan_kind(plan.kind), plan.version);
            if let Some(goals) = &plan.citizen_goals {
                let _ = writeln!(out);
                let _ = writeln!(out, "Borgerens egne mål: {}", md(goals));
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "Mål:");
            for g in &plan.goals {
                let target = g.target_date.map(|t| format!(" (senest {})", danish::date(t))).unwrap_or_default();
                let _ = writeln!(out, "- {}: {}{target}", danish::goal_area(g.area), md(&g.description));
            }
            let _ = writeln!(out);
            let _ = writeln!(out, "Indsatser:");
            for i in &plan.interventions {
                let cost = i.cost_estimate_ore.map(|c| format!(", anslået {}", kroner(c))).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- {} — ansvar: {}, {}{cost}",
                    md(&i.title),
                    danish::department(i.responsible_department),
                    danish::intervention_status(i.status)
                );
            }
        }
    }
    out
}

/// Text a person wrote, as Markdown shows it literally: on one line (so it cannot start a
/// heading or a list item of its own) and with every character that could make a link, an
/// image, HTML, emphasis or a table backslash-escaped.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '!' | '#' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{kroner, md};

    #[test]
    fn what_people_wrote_cannot_become_markdown() {
        let forged = "syg\n\n## 2. Forged decision\n- **Budget- og handlingsramme:** 1.000.000 kr.";
        let shown = md(forged);
        assert!(!shown.contains('\n'), "{shown}");
        assert!(shown.contains("\\#\\# 2. Forged") && shown.contains("\\*\\*Budget"), "{shown}");
        assert_eq!(md("<img src=x onerror=alert(1)>"), "\\<img src=x onerror=alert\\(1\\)\\>");
        assert_eq!(md("[x](javascript:alert(1))"), "\\[x\\]\\(javascript:alert\\(1\\)\\)");
        assert_eq!(md("Åse Ærø"), "Åse Ærø");
    }

    #[test]
    fn kroner_are_grouped_danish_style() {
        assert_eq!(kroner(5_000_000), "50.000 kr.");
        assert_eq!(kroner(2_500_050), "25.000,50 kr.");
        assert_eq!(kroner(99), "0,99 kr.");
    }
}
