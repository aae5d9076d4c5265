//! The fleet pane's column fitting and rows.
use super::*;

fn fit(width: u16) -> Fit {
    Fit {
        width,
        name: 16,
        namespace: 8,
        context: 11,
        contexts: true,
        names_repeat: false,
        kinds: false,
    }
}

fn titles(columns: &[(Column, u16, u16)]) -> Vec<&'static str> {
    columns.iter().map(|(c, ..)| c.title()).collect()
}

#[test]
fn narrow_panes_drop_the_least_useful_columns_first() {
    // 80 columns: the namespace would leave the name and context too
    // little room.
    assert_eq!(
        titles(&fit_columns(fit(78))),
        [
            "NAME", "CONTEXT", "PHASE", "STEP", "WT", "VERDICT", "IN STEP"
        ]
    );
    assert_eq!(
        titles(&fit_columns(fit(55))),
        ["NAME", "CONTEXT", "STEP", "WT", "VERDICT", "IN STEP"]
    );
    assert_eq!(titles(&fit_columns(fit(30))), ["NAME", "STEP", "WT"]);
    // One context: no context column.
    let one = Fit {
        contexts: false,
        ..fit(55)
    };
    assert_eq!(
        titles(&fit_columns(one)),
        ["NAME", "STEP", "WT", "VERDICT", "IN STEP"]
    );
    assert_eq!(
        titles(&fit_columns(fit(120))),
        [
            "NAME",
            "NAMESPACE",
            "CONTEXT",
            "STRATEGY",
            "PHASE",
            "STEP",
            "WT",
            "VERDICT",
            "IN STEP",
            "AGE"
        ]
    );
}

#[test]
fn a_fleet_of_several_kinds_shows_the_kind_first() {
    let kinds = Fit {
        kinds: true,
        ..fit(55)
    };
    assert_eq!(
        titles(&fit_columns(kinds)),
        ["K", "NAME", "CONTEXT", "STEP", "WT", "VERDICT", "IN STEP"]
    );
}

#[test]
fn names_used_in_two_namespaces_keep_the_namespace() {
    let repeat = Fit {
        names_repeat: true,
        ..fit(55)
    };
    assert_eq!(
        titles(&fit_columns(repeat)),
        ["NAME", "NAMESPACE", "CONTEXT", "STEP", "WT", "VERDICT"]
    );
}

#[test]
fn columns_follow_the_data_and_the_name_takes_the_rest() {
    let widths = |fit: Fit| {
        let columns = fit_columns(fit);
        let width = |t: &str| columns.iter().find(|(c, ..)| c.title() == t).unwrap().2;
        (width("NAME"), width("CONTEXT"), width("NAMESPACE"))
    };
    // Every column at its smallest takes 88 cells of 120: the context
    // and the name get 20 (the name needs only 16), then the context more.
    assert_eq!(
        widths(Fit {
            context: 40,
            ..fit(120)
        }),
        (16, 34, 9)
    );
    // At 200, all get their data's width, and the name the rest.
    assert_eq!(
        widths(Fit {
            context: 40,
            ..fit(200)
        }),
        (16 + 74, 40, 9)
    );
    let columns = fit_columns(Fit {
        context: 40,
        ..fit(120)
    });
    // Each column starts after the one before it and a space.
    for pair in columns.windows(2) {
        assert_eq!(pair[1].1, pair[0].1 + pair[0].2 + 1, "{pair:?}");
    }
    assert!(columns.last().map(|(_, x, w)| x + w) <= Some(120));
    // Too narrow for a long context: it is cut to its smallest.
    let tight = Fit {
        context: 40,
        ..fit(70)
    };
    let columns = fit_columns(tight);
    let context = columns
        .iter()
        .find(|(c, ..)| *c == Column::Context)
        .unwrap();
    assert!(context.2 < 40 && context.2 >= 8, "{context:?}");
}
