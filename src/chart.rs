//! The digest's chart: engagement and small actions over the weeks, drawn to
//! a PNG in-process (plotters) with a bundled font, so no system fonts or
//! external renderer are needed.

use crate::domain::metrics::digest::Digest;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::sync::OnceLock;

const WIDTH: u32 = 880;
const HEIGHT: u32 = 440;
const FONT: &str = "sans-serif";

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

/// Weeks of published digests (oldest first) as a PNG: engagement as a line
/// on the left axis, small actions (done / partly / not yet) as stacked bars
/// on the right. Unpublished weeks are gaps, as in the digest.
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

fn draw(rgb: &mut [u8], title: &str, weeks: &[Digest]) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = weeks.len().max(1) as f64;
    let most_actions = weeks
        .iter()
        .filter_map(|d| d.actions.map(|a| a.total()))
        .max()
        .unwrap_or(0)
        .max(4) as f64;
    let labels: Vec<String> = weeks
        .iter()
        .map(|d| d.week.split('-').nth(1).unwrap_or(&d.week).to_string())
        .collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .right_y_label_area_size(56)
        .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..130f64)?
        // Headroom above the data for the legend.
        .set_secondary_coord(-0.5f64..n - 0.5, 0f64..most_actions * 1.3);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(weeks.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            labels.get(i as usize).cloned().unwrap_or_default()
        })
        .y_label_formatter(&|y| {
            if *y <= 100.0 {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .x_desc("Week")
        .y_desc("Engagement (%)")
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("Small actions")
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    let colours = [
        ("done", RGBColor(46, 160, 67)),
        ("partly", RGBColor(230, 160, 30)),
        ("not yet", RGBColor(160, 160, 160)),
    ];
    for (layer, (name, colour)) in colours.into_iter().enumerate() {
        let bars = weeks.iter().enumerate().filter_map(|(i, d)| {
            let a = d.actions?;
            let parts = [a.done as f64, a.partly as f64, a.not_yet as f64];
            let below: f64 = parts[..layer].iter().sum();
            let x = i as f64;
            Some(Rectangle::new(
                [(x - 0.3, below), (x + 0.3, below + parts[layer])],
                colour.filled(),
            ))
        });
        chart
            .draw_secondary_series(bars)?
            .label(format!("actions: {name}"))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    let line = RGBColor(40, 90, 200);
    let points: Vec<(f64, f64)> = weeks
        .iter()
        .enumerate()
        .filter_map(|(i, d)| Some((i as f64, f64::from(d.engagement?))))
        .collect();
    chart
        .draw_series(LineSeries::new(points.clone(), line.stroke_width(3)))?
        .label("engagement")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], line.stroke_width(3)));
    chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, line.filled())))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperMiddle)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::metrics::Actions;

    fn week(n: u32, engagement: Option<u32>) -> Digest {
        let mut d: Digest = serde_json::from_value(serde_json::json!({
            "week": format!("2026-W{n:02}"), "from": "", "to": "", "anonymity_threshold": 5,
            "published": engagement.is_some(), "completion_to_date": true, "themes": [],
            "groups": [], "groups_not_shown": 0,
        }))
        .unwrap();
        d.engagement = engagement;
        d.actions = engagement.map(|e| Actions {
            done: u64::from(e / 10),
            partly: 2,
            not_yet: 1,
        });
        d
    }

    #[test]
    fn the_chart_is_a_png_with_labelled_axes() {
        let weeks = [week(37, Some(80)), week(38, None), week(39, Some(45))];
        let png = render_png("Leaders: engagement and small actions by week", &weeks).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut rgb).unwrap();
        assert_eq!((reader.info().width, reader.info().height), (WIDTH, HEIGHT));
        let inked = |x0: u32, x1: u32, y0: u32, y1: u32| {
            (y0..y1).any(|y| {
                (x0..x1).any(|x| {
                    let i = ((y * WIDTH + x) * 3) as usize;
                    rgb[i..i + 3].iter().any(|c| *c < 128)
                })
            })
        };
        // "Engagement (%)" runs up the left edge, "Small actions" up the
        // right one, "Week" under the axis, the title across the top.
        assert!(inked(0, 30, 100, 340), "left axis label");
        assert!(inked(WIDTH - 30, WIDTH, 100, 340), "right axis label");
        assert!(inked(380, 500, HEIGHT - 30, HEIGHT), "x axis label");
        assert!(inked(200, 680, 0, 40), "title");
    }
}
