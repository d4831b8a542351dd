//! The digest's chart, drawn to a PNG in-process (plotters) with a bundled
//! font, so no system fonts or external renderer are needed.
//!
//! Two panels share the week axis: engagement and momentum (both %) on one
//! 0–100 % axis above, small actions (done / partly / not yet) as stacked bars
//! below. Weeks without prompts get a grey band, weeks with too few people
//! asked a hatched one, and unpublished weeks are left as gaps. It is meant to
//! read at a glance even as a Slack or Teams preview (~360 px wide): large
//! type, thick lines, and colours that stay apart for colour-blind readers
//! (Okabe–Ito).

use crate::domain::metrics::digest::{Digest, EngagementNote};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};
use std::sync::OnceLock;

const WIDTH: u32 = 960;
const HEIGHT: u32 = 600;
const FONT: &str = "sans-serif";

// Layout, in pixels from the top / left edge.
const TITLE_H: u32 = 46;
const LEGEND_H: u32 = 36;
const TOP_PANEL_H: u32 = 262;
const BOTTOM_LEGEND_H: u32 = 38;
const LEFT_AREA: u32 = 92;
const MARGIN_LEFT: u32 = 14;
const MARGIN_RIGHT: u32 = 28;
const X_LABEL_AREA: u32 = 40;

// Type sizes (px).
const TITLE_SIZE: u32 = 28;
const TEXT_SIZE: u32 = 20;
const SMALL_SIZE: u32 = 18;

// Colours after Okabe–Ito, told apart by hue and lightness alike.
const ENGAGEMENT: RGBColor = RGBColor(0, 114, 178);
const MOMENTUM: RGBColor = RGBColor(213, 94, 0);
const DONE: RGBColor = RGBColor(0, 140, 102);
const PARTLY: RGBColor = RGBColor(240, 190, 60);
const NOT_YET: RGBColor = RGBColor(205, 205, 205);
const INK: RGBColor = RGBColor(33, 33, 33);
/// Labels on bands.
const LABEL: RGBColor = RGBColor(70, 70, 70);
const FAINT: RGBColor = RGBColor(150, 150, 150);
const MUTED: RGBColor = RGBColor(95, 95, 95);
const GRID: RGBColor = RGBColor(225, 225, 225);
/// The band behind a week without prompts.
const NO_PROMPTS: RGBColor = RGBColor(226, 226, 226);
/// The hatching over a week with too few people asked.
const TOO_FEW: RGBColor = RGBColor(190, 190, 190);

/// The top of the percentage axis: a little headroom above 100 % so that
/// points at 100 % and their value labels are not cut off.
const PERCENT_TOP: f64 = 112.0;

#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

/// Registers the bundled font once; plotters looks fonts up by family name.
fn font_ready() -> Result<(), ChartError> {
    static READY: OnceLock<bool> = OnceLock::new();
    let ok = *READY.get_or_init(|| {
        register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../templates/fonts/DejaVuSans-subset.ttf"),
        )
        .is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| ChartError("the bundled font could not be loaded".into()))
}

/// Weeks of digests (oldest first) as a PNG: engagement and momentum above,
/// small actions below, quiet and thin weeks marked, unpublished weeks empty.
pub fn render_png(title: &str, weeks: &[Digest]) -> Result<Vec<u8>, ChartError> {
    font_ready()?;
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    draw(&mut rgb, title, weeks).map_err(|e| ChartError(e.to_string()))?;
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| ChartError(e.to_string()))?;
    writer
        .write_image_data(&rgb)
        .map_err(|e| ChartError(e.to_string()))?;
    writer.finish().map_err(|e| ChartError(e.to_string()))?;
    Ok(png)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// How a week is marked behind its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Plain,
    /// No one was asked anything: a grey band.
    NoPrompts,
    /// Too few were asked to show engagement: a hatched band.
    TooFew,
    /// Not published: a gap, with only a faint label.
    Unpublished,
}

fn mark(d: &Digest) -> Mark {
    if !d.published {
        Mark::Unpublished
    } else if d.asked == Some(0) || d.engagement_note == Some(EngagementNote::NoPrompts) {
        Mark::NoPrompts
    } else if d.engagement_note == Some(EngagementNote::TooFewAsked) {
        Mark::TooFew
    } else {
        Mark::Plain
    }
}

fn text(size: u32, colour: &RGBColor) -> TextStyle<'static> {
    (FONT, size).into_font().color(colour)
}

/// `2026-W37` → `W37`.
fn week_label(week: &str) -> String {
    week.split_once('-').map_or(week, |(_, w)| w).to_string()
}

/// Runs of consecutive weeks that have a value: a line joins the points of a
/// run and breaks between runs.
fn runs(values: impl Iterator<Item = Option<u32>>) -> Vec<Vec<(f64, f64)>> {
    let mut all: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in values.enumerate() {
        match (v, all.last_mut()) {
            (Some(v), Some(run)) => run.push((i as f64, f64::from(v.min(100)))),
            (None, Some(run)) if !run.is_empty() => all.push(Vec::new()),
            _ => {}
        }
    }
    all.retain(|run| !run.is_empty());
    all
}

fn draw(rgb: &mut [u8], title: &str, weeks: &[Digest]) -> Drawn {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let (_, rest) = root.split_vertically(TITLE_H + LEGEND_H);
    let (top, rest) = rest.split_vertically(TOP_PANEL_H);
    let (_, bottom) = rest.split_vertically(BOTTOM_LEGEND_H);
    draw_title(&root, title)?;

    let n = weeks.len().max(1) as f64;
    let most_actions = weeks
        .iter()
        .filter(|d| d.published)
        .filter_map(|d| d.actions.map(|a| a.total()))
        .max()
        .unwrap_or(0)
        .max(4) as f64;
    let mut upper = ChartBuilder::on(&top)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .y_label_area_size(LEFT_AREA)
        .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..PERCENT_TOP)?;
    let mut lower = ChartBuilder::on(&bottom)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .y_label_area_size(LEFT_AREA)
        .x_label_area_size(X_LABEL_AREA)
        .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..most_actions * 1.08)?;
    let column = {
        let (xs, _) = upper.plotting_area().get_pixel_range();
        f64::from(xs.end - xs.start) / n
    };

    draw_bands(&root, &upper, weeks)?;
    upper
        .configure_mesh()
        .disable_x_mesh()
        .y_labels(7)
        .y_label_formatter(&|y| {
            if *y <= 100.0 {
                format!("{y:.0}%")
            } else {
                String::new()
            }
        })
        .y_desc("Engagement (%)")
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED)
        .label_style(text(SMALL_SIZE, &INK))
        .axis_desc_style(text(TEXT_SIZE, &INK))
        .draw()?;
    draw_percentages(&mut upper, weeks, column)?;

    lower
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(5)
        .y_label_formatter(&|y| {
            if (y - y.round()).abs() < 1e-6 {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .y_desc("Small actions")
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED)
        .label_style(text(SMALL_SIZE, &INK))
        .axis_desc_style(text(TEXT_SIZE, &INK))
        .draw()?;
    draw_actions(&mut lower, weeks, column)?;
    draw_week_labels(&root, &lower, weeks, column)?;

    let legend_x = upper.plotting_area().get_pixel_range().0.start;
    let legend_y = (TITLE_H + LEGEND_H / 2) as i32;
    let mut keys = vec![
        Key::Line(ENGAGEMENT, "Engagement"),
        Key::Dashed(MOMENTUM, "Momentum"),
    ];
    // The band keys only for bands that are drawn.
    let marks: Vec<Mark> = weeks.iter().map(mark).collect();
    if marks.contains(&Mark::NoPrompts) {
        keys.push(Key::Band("no prompts"));
    }
    if marks.contains(&Mark::TooFew) {
        keys.push(Key::Hatch("too few asked"));
    }
    draw_legend(&root, (legend_x, legend_y), &keys)?;
    let lower_y = (TITLE_H + LEGEND_H + TOP_PANEL_H + BOTTOM_LEGEND_H / 2) as i32 + 2;
    draw_legend(
        &root,
        (legend_x, lower_y),
        &[
            Key::Box(DONE, "done"),
            Key::Box(PARTLY, "partly"),
            Key::Box(NOT_YET, "not yet"),
        ],
    )?;
    root.present()?;
    Ok(())
}

/// The title, left-aligned over the plots; shortened with "…" if too wide.
fn draw_title(root: &Area, title: &str) -> Drawn {
    let style = text(TITLE_SIZE, &INK).pos(Pos::new(HPos::Left, VPos::Center));
    let room = WIDTH - 2 * MARGIN_LEFT;
    let mut shown = title.to_string();
    let mut keep = title.chars().count();
    while keep > 0 && root.estimate_text_size(&shown, &style)?.0 > room {
        keep -= 1;
        shown = title.chars().take(keep).collect::<String>() + "…";
    }
    root.draw(&Text::new(
        shown,
        (MARGIN_LEFT as i32, (TITLE_H / 2) as i32 + 4),
        style,
    ))?;
    Ok(())
}

type Panel<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Grey bands behind weeks without prompts, hatched ones behind weeks with
/// too few asked, each with a short upright label at its foot.
fn draw_bands(root: &Area, panel: &Panel, weeks: &[Digest]) -> Drawn {
    for (i, d) in weeks.iter().enumerate() {
        let (label, colour) = match mark(d) {
            Mark::NoPrompts => ("no prompts", LABEL),
            Mark::TooFew => ("too few asked", LABEL),
            Mark::Unpublished => ("not published", FAINT),
            Mark::Plain => continue,
        };
        let x = i as f64;
        let (x0, y0) = panel.backend_coord(&(x - 0.5, PERCENT_TOP));
        let (x1, y1) = panel.backend_coord(&(x + 0.5, 0.0));
        let (x0, x1) = (x0 + 1, x1 - 1);
        let style = text(SMALL_SIZE, &colour)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let (middle, foot) = ((x0 + x1) / 2, y1 - 8);
        match mark(d) {
            Mark::NoPrompts => {
                root.draw(&Rectangle::new([(x0, y0), (x1, y1)], NO_PROMPTS.filled()))?;
            }
            Mark::TooFew => {
                hatch(root, (x0, y0), (x1, y1))?;
                // Clear the hatching behind the (upright) label.
                let (long, high) = root.estimate_text_size(label, &style)?;
                let (long, half) = (long as i32, high as i32 / 2 + 4);
                root.draw(&Rectangle::new(
                    [(middle - half, foot - long - 6), (middle + half, foot + 4)],
                    WHITE.filled(),
                ))?;
            }
            Mark::Unpublished | Mark::Plain => {}
        }
        root.draw(&Text::new(label, (middle, foot), style))?;
    }
    Ok(())
}

/// Diagonal hatching inside a rectangle, with a thin outline.
fn hatch(root: &Area, (x0, y0): (i32, i32), (x1, y1): (i32, i32)) -> Drawn {
    let (w, h) = (x1 - x0, y1 - y0);
    let style = TOO_FEW.stroke_width(2);
    let mut t = -h;
    while t < w {
        // The line x = x0 + t + s, y = y1 - s, kept where x0 ≤ x ≤ x1.
        let (s0, s1) = ((-t).max(0), (w - t).min(h));
        if s0 < s1 {
            root.draw(&PathElement::new(
                [(x0 + t + s0, y1 - s0), (x0 + t + s1, y1 - s1)],
                style,
            ))?;
        }
        t += 12;
    }
    root.draw(&Rectangle::new(
        [(x0, y0), (x1, y1)],
        TOO_FEW.stroke_width(1),
    ))?;
    Ok(())
}

/// Momentum as a dashed line that runs on through quiet weeks; engagement as
/// a solid line with points, broken where a week has no figure.
fn draw_percentages(panel: &mut Panel, weeks: &[Digest], column: f64) -> Drawn {
    for run in runs(weeks.iter().map(|d| d.momentum.filter(|_| d.published))) {
        if run.len() == 1 {
            panel.draw_series(run.iter().map(|p| Circle::new(*p, 4, MOMENTUM.filled())))?;
        } else {
            panel.draw_series(DashedLineSeries::new(run, 14, 8, MOMENTUM.stroke_width(4)))?;
        }
    }
    let engagement = runs(weeks.iter().map(|d| d.engagement.filter(|_| d.published)));
    for run in &engagement {
        panel.draw_series(LineSeries::new(
            run.iter().copied(),
            ENGAGEMENT.stroke_width(5),
        ))?;
    }
    let points = engagement.iter().flatten();
    panel.draw_series(points.clone().map(|p| Circle::new(*p, 9, WHITE.filled())))?;
    panel.draw_series(points.map(|p| Circle::new(*p, 7, ENGAGEMENT.filled())))?;
    if column >= 44.0 {
        let above = text(SMALL_SIZE, &ENGAGEMENT).pos(Pos::new(HPos::Center, VPos::Bottom));
        let below = above.pos(Pos::new(HPos::Center, VPos::Top));
        for run in &engagement {
            panel.draw_series(run.iter().enumerate().map(|(j, &(x, y))| {
                // Under a point in a dip, so that the lines into it stay clear.
                let neighbours = [j.checked_sub(1), Some(j + 1)];
                let higher: Vec<bool> = neighbours
                    .iter()
                    .filter_map(|k| run.get((*k)?))
                    .map(|p| p.1 > y)
                    .collect();
                let dip = !higher.is_empty() && higher.iter().all(|h| *h);
                let (offset, style) = if dip && y >= 14.0 {
                    ((0, 12), below.clone())
                } else {
                    ((0, -12), above.clone())
                };
                EmptyElement::at((x, y)) + Text::new(format!("{y:.0}%"), offset, style)
            }))?;
        }
    }
    Ok(())
}

/// Small actions as stacked bars: done at the foot, then partly, then not yet.
fn draw_actions(panel: &mut Panel, weeks: &[Digest], column: f64) -> Drawn {
    // About two thirds of the week, but never a slab.
    let half = 0.32f64.min(28.0 / column.max(1.0));
    for (layer, colour) in [DONE, PARTLY, NOT_YET].into_iter().enumerate() {
        let bars = weeks.iter().enumerate().filter_map(|(i, d)| {
            let a = d.actions.filter(|_| d.published)?;
            let parts = [a.done as f64, a.partly as f64, a.not_yet as f64];
            let below: f64 = parts[..layer].iter().sum();
            let x = i as f64;
            (parts[layer] > 0.0).then(|| {
                Rectangle::new(
                    [(x - half, below), (x + half, below + parts[layer])],
                    colour.filled(),
                )
            })
        });
        panel.draw_series(bars)?;
    }
    Ok(())
}

/// Week labels under the lower panel, thinned out when the weeks are narrow.
fn draw_week_labels(root: &Area, panel: &Panel, weeks: &[Digest], column: f64) -> Drawn {
    let style = text(SMALL_SIZE, &INK).pos(Pos::new(HPos::Center, VPos::Top));
    let widest = weeks
        .iter()
        .map(|d| {
            root.estimate_text_size(&week_label(&d.week), &style)
                .map(|s| s.0)
        })
        .try_fold(0, |m, w| w.map(|w| m.max(w)))?;
    let every = ((f64::from(widest) + 10.0) / column.max(1.0))
        .ceil()
        .max(1.0) as usize;
    let last = weeks.len().saturating_sub(1);
    for (i, d) in weeks.iter().enumerate() {
        if (last - i) % every != 0 {
            continue;
        }
        let (x, y) = panel.backend_coord(&(i as f64, 0.0));
        root.draw(&Text::new(week_label(&d.week), (x, y + 10), style.clone()))?;
    }
    Ok(())
}

enum Key {
    Line(RGBColor, &'static str),
    Dashed(RGBColor, &'static str),
    Band(&'static str),
    Hatch(&'static str),
    Box(RGBColor, &'static str),
}

/// A row of legend keys starting at `(x, y)` (y is the row's middle), drawn
/// outside the plots so that it never covers data.
fn draw_legend(root: &Area, (mut x, y): (i32, i32), keys: &[Key]) -> Drawn {
    let style = text(TEXT_SIZE, &INK).pos(Pos::new(HPos::Left, VPos::Center));
    for key in keys {
        let label = match *key {
            Key::Line(c, label) => {
                root.draw(&PathElement::new([(x, y), (x + 34, y)], c.stroke_width(5)))?;
                root.draw(&Circle::new((x + 17, y), 7, c.filled()))?;
                label
            }
            Key::Dashed(c, label) => {
                for dx in [0, 14, 28] {
                    let end = (dx + 9).min(34);
                    root.draw(&PathElement::new(
                        [(x + dx, y), (x + end, y)],
                        c.stroke_width(4),
                    ))?;
                }
                label
            }
            Key::Band(label) => {
                root.draw(&Rectangle::new(
                    [(x, y - 11), (x + 34, y + 11)],
                    NO_PROMPTS.filled(),
                ))?;
                label
            }
            Key::Hatch(label) => {
                hatch(root, (x, y - 11), (x + 34, y + 11))?;
                label
            }
            Key::Box(c, label) => {
                root.draw(&Rectangle::new(
                    [(x + 6, y - 10), (x + 28, y + 10)],
                    c.filled(),
                ))?;
                label
            }
        };
        root.draw(&Text::new(label, (x + 42, y), style.clone()))?;
        x += 42 + root.estimate_text_size(label, &style)?.0 as i32 + 28;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A published week of 2026 with `fields` over a minimal digest.
    fn week(n: u32, fields: serde_json::Value) -> Digest {
        let mut digest = json!({
            "week": format!("2026-W{n:02}"), "from": "", "to": "", "anonymity_threshold": 5,
            "published": true, "completion_to_date": true, "themes": [],
            "groups": [], "groups_not_shown": 0,
        });
        if let (Some(d), Some(f)) = (digest.as_object_mut(), fields.as_object()) {
            d.extend(f.clone());
        }
        serde_json::from_value(digest).unwrap()
    }

    fn prompted(n: u32, engagement: u32, momentum: u32) -> Digest {
        week(
            n,
            json!({
                "asked": 20, "responded": engagement / 5, "engagement": engagement,
                "momentum": momentum,
                "actions": {"done": 6 + n % 3, "partly": 3, "not_yet": 2 + n % 2},
            }),
        )
    }

    fn quiet(n: u32, momentum: u32) -> Digest {
        week(
            n,
            json!({
                "asked": 0, "engagement_note": "no_prompts", "momentum": momentum,
                "actions": {"done": 2, "partly": 1, "not_yet": 0},
            }),
        )
    }

    struct Image(Vec<u8>);

    impl Image {
        fn of(weeks: &[Digest]) -> Image {
            let png = render_png("Leaders: engagement and small actions by week", weeks).unwrap();
            let mut reader = png::Decoder::new(std::io::Cursor::new(png))
                .read_info()
                .unwrap();
            let mut rgb = vec![0; reader.output_buffer_size()];
            reader.next_frame(&mut rgb).unwrap();
            assert_eq!((reader.info().width, reader.info().height), (WIDTH, HEIGHT));
            Image(rgb)
        }

        fn at(&self, x: u32, y: u32) -> RGBColor {
            let i = ((y * WIDTH + x) * 3) as usize;
            RGBColor(self.0[i], self.0[i + 1], self.0[i + 2])
        }

        /// Pixels of the region (x0..x1, y0..y1) that match `keep`.
        fn count(
            &self,
            (x0, x1): (u32, u32),
            (y0, y1): (u32, u32),
            keep: impl Fn(RGBColor) -> bool,
        ) -> usize {
            (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| keep(self.at(x, y)))
                .count()
        }

        fn inked(&self, xs: (u32, u32), ys: (u32, u32)) -> bool {
            self.count(xs, ys, |c| c.0 < 128 && c.1 < 128 && c.2 < 128) > 0
        }
    }

    // Where things are (see the layout constants).
    const TOP: (u32, u32) = (TITLE_H + LEGEND_H, TITLE_H + LEGEND_H + TOP_PANEL_H);
    const BOTTOM: (u32, u32) = (TOP.1 + BOTTOM_LEGEND_H, HEIGHT - X_LABEL_AREA);
    const PLOT_X: (u32, u32) = (MARGIN_LEFT + LEFT_AREA, WIDTH - MARGIN_RIGHT);
    const AXIS_TITLE_X: (u32, u32) = (0, MARGIN_LEFT + 30);
    /// The top panel above the upright band labels (whose anti-aliased edges
    /// can hit any grey).
    const ABOVE_LABELS: (u32, u32) = (TOP.0, TOP.1 - 150);

    /// The middle half of week `i`'s column, of `n`.
    fn column(i: u32, n: u32) -> (u32, u32) {
        let w = (PLOT_X.1 - PLOT_X.0) / n;
        (PLOT_X.0 + i * w + w / 4, PLOT_X.0 + i * w + 3 * w / 4)
    }

    #[test]
    fn the_chart_has_two_panels_with_their_own_axis_titles() {
        let weeks = [
            prompted(37, 80, 70),
            prompted(38, 65, 72),
            prompted(39, 90, 75),
        ];
        let image = Image::of(&weeks);
        assert!(image.inked((MARGIN_LEFT, WIDTH / 2), (0, TITLE_H)), "title");
        // "Engagement (%)" runs up the left of the top panel, "Small actions"
        // up the left of the bottom one.
        assert!(image.inked(AXIS_TITLE_X, TOP), "top axis title");
        assert!(image.inked(AXIS_TITLE_X, BOTTOM), "bottom axis title");
        // The lines are in the top panel only, the bars in the bottom one.
        let is = |want: RGBColor| move |c: RGBColor| c == want;
        assert!(
            image.count(PLOT_X, TOP, is(ENGAGEMENT)) > 500,
            "engagement line"
        );
        assert!(
            image.count(PLOT_X, TOP, is(MOMENTUM)) > 200,
            "momentum line"
        );
        assert_eq!(image.count(PLOT_X, BOTTOM, is(ENGAGEMENT)), 0);
        for bar in [DONE, PARTLY, NOT_YET] {
            assert!(image.count(PLOT_X, BOTTOM, is(bar)) > 500, "{bar:?} bars");
            assert_eq!(
                image.count(PLOT_X, TOP, is(bar)),
                0,
                "{bar:?} in the top panel"
            );
        }
        // Week labels under the bottom panel.
        assert!(
            image.inked(column(1, 3), (HEIGHT - X_LABEL_AREA, HEIGHT)),
            "week label"
        );
    }

    #[test]
    fn a_week_without_prompts_gets_a_grey_band() {
        // Either sign of a quiet week will do: no one asked, or the note.
        let none_asked = week(38, json!({"asked": 0, "momentum": 71}));
        let by_note = week(39, json!({"engagement_note": "no_prompts", "momentum": 70}));
        let weeks = [
            prompted(37, 80, 70),
            none_asked,
            by_note,
            prompted(40, 85, 72),
        ];
        let image = Image::of(&weeks);
        let grey = |c: RGBColor| c == NO_PROMPTS;
        let column_area = |i| {
            let (x0, x1) = column(i, 4);
            (x1 - x0) as usize * (TOP.1 - TOP.0) as usize
        };
        for quiet in [1, 2] {
            let banded = image.count(column(quiet, 4), TOP, grey);
            assert!(
                banded * 10 > column_area(quiet) * 7,
                "week {quiet}: {banded} grey pixels"
            );
            // Labelled "no prompts" in darker ink at the foot of the band.
            assert!(
                image.inked(column(quiet, 4), (TOP.1 - 100, TOP.1)),
                "week {quiet} label"
            );
        }
        for prompted in [0, 3] {
            assert_eq!(
                image.count(column(prompted, 4), TOP, grey),
                0,
                "week {prompted}"
            );
        }
        // Only the top panel is banded.
        assert_eq!(image.count(column(1, 4), BOTTOM, grey), 0);
    }

    #[test]
    fn a_week_with_too_few_asked_is_hatched_not_grey() {
        let thin = week(
            38,
            json!({"asked": 3, "engagement_note": "too_few_asked", "momentum": 70}),
        );
        let weeks = [prompted(37, 80, 70), thin, prompted(39, 85, 72)];
        let image = Image::of(&weeks);
        let band = column(1, 3);
        assert_eq!(image.count(band, ABOVE_LABELS, |c| c == NO_PROMPTS), 0);
        assert!(image.count(band, TOP, |c| c == TOO_FEW) > 500, "hatching");
        assert_eq!(image.count(column(0, 3), TOP, |c| c == TOO_FEW), 0);
    }

    #[test]
    fn an_unpublished_week_is_a_gap() {
        let hidden = week(38, json!({"published": false}));
        let weeks = [prompted(37, 80, 70), hidden, prompted(39, 85, 72)];
        let image = Image::of(&weeks);
        let (x0, x1) = column(1, 3);
        // Neither band nor bar; only the lines passing by could touch it, and
        // they break here.
        let gap = (x0 + 10, x1 - 10);
        let drawn = |c: RGBColor| {
            [
                NO_PROMPTS, TOO_FEW, DONE, PARTLY, NOT_YET, ENGAGEMENT, MOMENTUM,
            ]
            .contains(&c)
        };
        assert_eq!(image.count(gap, ABOVE_LABELS, drawn), 0);
        assert_eq!(image.count(gap, BOTTOM, drawn), 0);
    }

    #[test]
    fn engagement_breaks_where_a_week_has_no_figure() {
        let points = runs([Some(80), None, Some(70), Some(60), None].into_iter());
        assert_eq!(
            points,
            vec![vec![(0.0, 80.0)], vec![(2.0, 70.0), (3.0, 60.0)]]
        );
        assert!(runs(std::iter::empty()).is_empty());
    }

    #[test]
    fn no_weeks_still_draw() {
        assert!(render_png("Nothing yet", &[]).is_ok());
    }

    /// Twelve weeks, prompts every other week, one with too few asked and one
    /// unpublished; written to target/chart-sample.png when
    /// MOMENTUM_CHART_SAMPLE is set, to look at.
    #[test]
    fn a_twelve_week_sample_draws() {
        let engagement = [72, 0, 81, 0, 0, 0, 77, 0, 88, 0, 84, 0];
        let weeks: Vec<Digest> = (0..12u32)
            .map(|i| {
                let n = 37 + i;
                let momentum = 62 + i * 2;
                match i {
                    4 => week(n, json!({"published": false})),
                    5 => week(
                        n,
                        json!({"asked": 3, "engagement_note": "too_few_asked", "momentum": momentum,
                               "actions": {"done": 1, "partly": 1, "not_yet": 1}}),
                    ),
                    _ if i % 2 == 1 => quiet(n, momentum),
                    _ => prompted(n, engagement[i as usize], momentum),
                }
            })
            .collect();
        let png = render_png(
            "Leaders programme: engagement and small actions by week",
            &weeks,
        )
        .unwrap();
        if std::env::var_os("MOMENTUM_CHART_SAMPLE").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/chart-sample.png");
            std::fs::write(path, png).unwrap();
        }
    }
}
