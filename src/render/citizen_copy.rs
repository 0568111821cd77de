//! The citizen's own copy of their plan ("Din plan"), written to them in plain Danish: their
//! own goals first, then the shared goals with their dates, who does what and when, how to reach
//! the coordinator, and when the plan is followed up. No internal code, no CPR number: the
//! departments and statuses are Danish words, the dates as Danes write them.

use chrono::NaiveDate;

use crate::domain::plan::{Intervention, InterventionStatus};
use crate::render::danish;
use crate::render::document::{Block, Document};
use crate::views::plan::PlanView;
use crate::views::CoordinatorRef;

/// What the copy is made from.
pub struct CitizenCopy<'a> {
    pub citizen_name: &'a str,
    pub plan: &'a PlanView,
    pub coordinator: Option<&'a CoordinatorRef>,
    pub follow_up_on: Option<NaiveDate>,
    /// Whether the case is closed: the copy then says the work is over.
    pub closed: bool,
    /// The day the copy is made, in Denmark.
    pub printed_on: NaiveDate,
}

fn when(i: &Intervention) -> String {
    match (i.start_on, i.end_on) {
        (Some(start), Some(end)) => format!("Fra {} til {}", danish::date(start), danish::date(end)),
        (Some(start), None) => format!("Fra {}", danish::date(start)),
        (None, Some(end)) => format!("Til {}", danish::date(end)),
        (None, None) => "Tidspunktet aftales med dig".to_string(),
    }
}

fn status(s: InterventionStatus) -> String {
    let word = danish::intervention_status(s);
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The copy as a document, to render as HTML or PDF.
pub fn document(copy: &CitizenCopy) -> Document {
    let plan = copy.plan;
    let mut blocks = vec![
        Block::Title("Din plan".to_string()),
        Block::Subtitle(format!(
            "{} for {} · version {}, vedtaget {}",
            danish::plan_kind(plan.kind),
            copy.citizen_name,
            plan.version,
            danish::local_date(plan.adopted_at)
        )),
        Block::Paragraph(
            "Planen er lavet sammen med dig og de afdelinger i kommunen, der hjælper dig. Den samler, hvad I \
             arbejder hen imod, og hvem der gør hvad. Planen er et tilbud: du bestemmer selv, om du vil tage \
             imod det, og du kan altid sige til, hvis noget skal være anderledes."
                .to_string(),
        ),
        Block::Heading("Det vil du gerne".to_string()),
    ];
    blocks.push(Block::Paragraph(match plan.citizen_goals.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        Some(goals) => goals.to_string(),
        None => "Dine egne mål er ikke skrevet ind i planen endnu. Fortæl din koordinator om dem.".to_string(),
    }));

    blocks.push(Block::Heading("Det arbejder vi hen imod sammen".to_string()));
    for goal in &plan.goals {
        let mut lines = vec![goal.description.clone()];
        if let Some(target) = goal.target_date {
            lines.push(format!("Inden {}", danish::date(target)));
        }
        blocks.push(Block::Entry { title: danish::goal_area(goal.area).to_string(), lines });
    }

    blocks.push(Block::Heading("Hvem gør hvad, og hvornår".to_string()));
    for i in &plan.interventions {
        blocks.push(Block::Entry {
            title: i.title.clone(),
            lines: vec![
                format!("Ansvarlig: {}", danish::department(i.responsible_department)),
                when(i),
                format!("Status: {}", status(i.status).to_lowercase()),
            ],
        });
    }

    blocks.push(Block::Heading("Din koordinator".to_string()));
    match copy.coordinator {
        Some(c) => {
            let mut lines = vec![danish::department(c.department).to_string()];
            if let Some(phone) = &c.phone {
                lines.push(format!("Telefon: {phone}"));
            }
            if let Some(email) = &c.email {
                lines.push(format!("E-mail: {email}"));
            }
            blocks.push(Block::Entry { title: c.name.clone(), lines });
            blocks.push(Block::Paragraph(format!(
                "{name} er din koordinator og holder sammen på det hele. Kontakt {name}, hvis du har spørgsmål \
                 til planen, eller hvis der sker noget i dit liv, som planen skal tage hensyn til.",
                name = c.name
            )));
        }
        None => blocks.push(Block::Paragraph("Du har ikke fået en koordinator endnu.".to_string())),
    }

    if copy.closed {
        blocks.push(Block::Heading("Samarbejdet er afsluttet".to_string()));
        blocks.push(Block::Paragraph(
            "Samarbejdet om denne plan er afsluttet. Planen her viser, hvordan den så ud til sidst.".to_string(),
        ));
    } else {
        blocks.push(Block::Heading("Næste opfølgning".to_string()));
        blocks.push(Block::Paragraph(match copy.follow_up_on {
            Some(d) => format!(
                "Vi følger op på planen sammen med dig den {}. Du er velkommen til at deltage og sige, hvordan det går.",
                danish::date(d)
            ),
            None => "Der er ikke fastsat en dato for næste opfølgning endnu.".to_string(),
        }));
    }

    blocks.push(Block::Note(format!(
        "Udskrevet {}. Du kan altid bede kommunen om at se alt, hvad der er registreret om dig, og hvem der har set det.",
        danish::date(copy.printed_on)
    )));
    Document { lang: "da", title: format!("Din plan – {}", copy.citizen_name), blocks }
}

/// The footer of each PDF page.
pub fn page_of(n: usize, total: usize) -> String {
    format!("Side {n} af {total}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan::{Goal, GoalArea, PlanKind};
    use crate::domain::Department;
    use uuid::Uuid;

    fn plan() -> PlanView {
        PlanView {
            version: 2,
            kind: PlanKind::Ungeplan,
            adopted_at: "2026-12-01T23:30:00Z".parse().unwrap(),
            decision_id: Uuid::nil(),
            citizen_goals: Some("Jeg vil gerne have en lejlighed.".into()),
            goals: vec![Goal {
                id: Uuid::nil(),
                area: GoalArea::Housing,
                description: "Egen bolig".into(),
                target_date: Some("2027-01-15".parse().unwrap()),
            }],
            interventions: vec![Intervention {
                id: Uuid::nil(),
                title: "Bostøtte".into(),
                offer_id: None,
                responsible_department: Department::LabourMarket,
                start_on: Some("2026-12-07".parse().unwrap()),
                end_on: None,
                status: InterventionStatus::Active,
                cost_estimate_ore: Some(1_200_000),
                external_ref: Some("EXT-42".into()),
            }],
            statutory_plans: vec![],
            current: true,
            amendments: vec![],
        }
    }

    #[test]
    fn the_copy_speaks_danish_with_the_citizens_goals_first_and_no_codes() {
        let plan = plan();
        let coordinator = CoordinatorRef {
            sub: "karen.social".into(),
            name: "Karen Vinther".into(),
            department: Department::Social,
            phone: Some("+45 33 66 33 66".into()),
            email: Some("karen@kommune.example".into()),
        };
        let copy = CitizenCopy {
            citizen_name: "Sara Holm",
            plan: &plan,
            coordinator: Some(&coordinator),
            follow_up_on: Some("2027-02-01".parse().unwrap()),
            closed: false,
            printed_on: "2026-12-01".parse().unwrap(),
        };
        let text = document(&copy).text().join("\n");
        for expected in [
            "Din plan",
            "Ungeplan for Sara Holm · version 2, vedtaget 2. december 2026",
            "Jeg vil gerne have en lejlighed.",
            "Bolig",
            "Inden 15. januar 2027",
            "Ansvarlig: Arbejdsmarkedsafdelingen",
            "Fra 7. december 2026",
            "Status: i gang",
            "Karen Vinther",
            "Telefon: +45 33 66 33 66",
            "E-mail: karen@kommune.example",
            "den 1. februar 2027",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        let own = text.find("Jeg vil gerne").unwrap();
        assert!(own < text.find("Egen bolig").unwrap(), "the citizen's own goals come first");
        for code in ["labour_market", "housing", "active", "ungeplan", "EXT-42", "karen.social", "12000"] {
            assert!(!text.contains(code), "internal code {code:?} in\n{text}");
        }
    }
}
