//! `momentum teams-package`: the Teams app package an admin uploads
//! (manifest.json with the bot, a 192×192 colour icon and a 32×32 white
//! outline icon on transparency), zipped.

use serde_json::{json, Value};
use std::io::Write;

pub const MANIFEST_VERSION: &str = "1.17";
/// The brand colour behind the colour icon.
const ACCENT: [u8; 3] = [0x2E, 0x7D, 0x5B];

#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// The bot's Microsoft App ID (a GUID); also the Teams app's id.
    pub app_id: String,
    /// Where Momentum is served (its host becomes a valid domain).
    pub base_url: String,
    /// Semantic version of the package (bump it for every re-upload).
    pub version: String,
    pub developer: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("--app-id {0:?} is not a GUID (the Azure Bot's Microsoft App ID)")]
    AppId(String),
    #[error("--base-url {0:?} is not an https URL with a host")]
    BaseUrl(String),
    #[error("--version {0:?} is not a version such as 1.0.0")]
    Version(String),
    #[error("could not write the package: {0}")]
    Write(String),
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The manifest for these options, checked.
pub fn manifest(o: &PackageOptions) -> Result<Value, PackageError> {
    if !is_guid(&o.app_id) {
        return Err(PackageError::AppId(o.app_id.clone()));
    }
    let host = url::Url::parse(&o.base_url)
        .ok()
        .filter(|u| u.scheme() == "https")
        .and_then(|u| u.host_str().map(str::to_string))
        .ok_or_else(|| PackageError::BaseUrl(o.base_url.clone()))?;
    let numbers: Vec<&str> = o.version.split('.').collect();
    if numbers.len() != 3 || numbers.iter().any(|n| n.parse::<u32>().is_err()) {
        return Err(PackageError::Version(o.version.clone()));
    }
    let base = o.base_url.trim_end_matches('/');
    let command =
        |title: &str, description: &str| json!({ "title": title, "description": description });
    Ok(json!({
        "$schema": format!("https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"),
        "manifestVersion": MANIFEST_VERSION,
        "version": o.version,
        "id": o.app_id,
        "developer": {
            "name": o.developer,
            "websiteUrl": base,
            "privacyUrl": format!("{base}/privacy"),
            "termsOfUseUrl": format!("{base}/terms"),
        },
        "name": { "short": "Momentum", "full": "Momentum for coaching programs" },
        "description": {
            "short": "Keeps your coaching program going between sessions.",
            "full": "After each coaching session Momentum asks for one small step and, a few days later, how it went: one tap. Managers are asked to support, sponsors get a weekly digest of group numbers. Your answers and notes stay yours.",
        },
        "icons": { "color": "color.png", "outline": "outline.png" },
        "accentColor": format!("#{:02X}{:02X}{:02X}", ACCENT[0], ACCENT[1], ACCENT[2]),
        "bots": [{
            "botId": o.app_id,
            "scopes": ["personal", "team"],
            "supportsFiles": false,
            "isNotificationOnly": false,
            "commandLists": [{
                "scopes": ["personal"],
                "commands": [
                    command("status", "Your focus, next session and recent steps"),
                    command("note", "A private note, readable only by you"),
                    command("pause", "Stop nudges until you resume"),
                    command("resume", "Start nudges again"),
                    command("my-data", "Everything Momentum stores about you"),
                    command("help", "What Momentum can do"),
                ],
            }],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }))
}

/// The zip: manifest.json, color.png, outline.png.
pub fn package(o: &PackageOptions) -> Result<Vec<u8>, PackageError> {
    let manifest = manifest(o)?;
    let write = |e: &dyn std::fmt::Display| PackageError::Write(e.to_string());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let pretty = serde_json::to_vec_pretty(&manifest).map_err(|e| write(&e))?;
    for (name, bytes) in [
        ("manifest.json", pretty),
        ("color.png", icon(192, true)),
        ("outline.png", icon(32, false)),
    ] {
        zip.start_file(name, options).map_err(|e| write(&e))?;
        zip.write_all(&bytes).map_err(|e| write(&e))?;
    }
    Ok(zip.finish().map_err(|e| write(&e))?.into_inner())
}

/// An upward chevron: white on the accent colour (colour icon), or white on
/// transparency (outline icon, as Teams requires).
pub fn icon(size: u32, colour: bool) -> Vec<u8> {
    let s = size as f32;
    let points = [(0.22, 0.68), (0.5, 0.36), (0.78, 0.68)];
    let thickness = 0.09 * s;
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let p = (x as f32 + 0.5, y as f32 + 0.5);
            let d = points
                .windows(2)
                .map(|w| segment_distance(p, (w[0].0 * s, w[0].1 * s), (w[1].0 * s, w[1].1 * s)))
                .fold(f32::MAX, f32::min);
            // Coverage with a one-pixel soft edge.
            let ink = (thickness / 2.0 - d + 0.5).clamp(0.0, 1.0);
            if colour {
                let mix = |c: u8| (c as f32 * (1.0 - ink) + 255.0 * ink).round() as u8;
                rgba.extend([mix(ACCENT[0]), mix(ACCENT[1]), mix(ACCENT[2]), 255]);
            } else {
                rgba.extend([255, 255, 255, (ink * 255.0).round() as u8]);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, size, size);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing to a Vec cannot fail; an empty icon would fail the package check.
        if let Ok(mut w) = encoder.write_header() {
            let _ = w.write_image_data(&rgba);
        }
    }
    out
}

fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> PackageOptions {
        PackageOptions {
            app_id: "0b7f9b1e-5c8a-4d2e-9f3a-1c2d3e4f5a6b".into(),
            base_url: "https://momentum.acme.example".into(),
            version: "1.0.0".into(),
            developer: "Acme HR".into(),
        }
    }

    #[test]
    fn the_manifest_names_the_bot_both_scopes_and_the_domain() {
        let m = manifest(&options()).unwrap();
        assert_eq!(m["bots"][0]["botId"], m["id"]);
        assert_eq!(m["bots"][0]["scopes"], json!(["personal", "team"]));
        assert_eq!(m["validDomains"], json!(["momentum.acme.example"]));
    }

    #[test]
    fn wrong_options_are_named() {
        let mut o = options();
        o.app_id = "not-a-guid".into();
        assert!(manifest(&o).unwrap_err().to_string().contains("--app-id"));
        let mut o = options();
        o.base_url = "http://plain.example".into();
        assert!(manifest(&o).unwrap_err().to_string().contains("--base-url"));
    }

    #[test]
    fn icons_have_teams_sizes_and_the_outline_is_white_on_transparency() {
        for (size, colour) in [(192, true), (32, false)] {
            let bytes = icon(size, colour);
            let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (size, size));
            if !colour {
                let px = &buf[..info.buffer_size()];
                assert!(px.chunks(4).all(|p| p[3] == 0 || p[..3] == [255, 255, 255]));
                assert!(px.chunks(4).any(|p| p[3] == 255));
            }
        }
    }
}
