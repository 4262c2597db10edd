/**
 * Draws the fleet dashboard (components/monitoring/dashboard.ts) as an SVG for docs/operations.md: the
 * same mosaic, titles, units, series legends and alert thresholds Cloud Monitoring shows. There is no
 * live project here, so each series is an illustrative curve (deterministic, labelled as such); the
 * layout, the names and the thresholds are the deployed dashboard's own.
 */
import { DEFAULT_ALERT_THRESHOLDS } from "../../components/monitoring/alerts";
import { DashboardTile, fleetDashboard } from "../../components/monitoring/dashboard";

const CELL_W = 100;
const CELL_H = 60;
const PAD = 8;
const HEADER = 44;
const FOOTER = 24;
const COLORS = ["#1a73e8", "#e8710a", "#188038", "#9334e6", "#d01884"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The legend of a series: its template with the label placeholders kept readable, else its metric's last segment. */
function legendOf(tile: DashboardTile, i: number): string {
    const set = tile.widget.xyChart.dataSets[i];
    if (set.legendTemplate !== undefined) {
        return set.legendTemplate.replace(/\$\{(?:metric|resource)\.labels\.([a-z_]+)\}/g, "<$1>");
    }
    return /metric\.type = "[^"]*?([^/."]+)"/.exec(set.timeSeriesQuery.timeSeriesFilter.filter)?.[1] ?? `series ${i + 1}`;
}

/** A deterministic wave for series `k` of tile `t`, as `n` values in 0..1. */
function illustrative(t: number, k: number, n: number): number[] {
    return Array.from({ length: n }, (_, i) => 0.35 + 0.2 * Math.sin((i + 3 * t + 5 * k) / 3.1) + 0.1 * Math.sin((i * (k + 2) + t) / 1.7) - 0.12 * k);
}

function tileSvg(tile: DashboardTile, index: number, origin: { x: number; y: number }): string {
    const x = origin.x + tile.xPos * CELL_W + PAD / 2;
    const y = origin.y + tile.yPos * CELL_H + PAD / 2;
    const w = tile.width * CELL_W - PAD;
    const h = tile.height * CELL_H - PAD;
    const chart = { x: x + 36, y: y + 30, w: w - 48, h: h - 70 };
    const parts = [
        `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" fill="#fff" stroke="#dadce0"/>`,
        `<text x="${x + 12}" y="${y + 20}" font-size="13" font-weight="600" fill="#202124">${esc(tile.widget.title)}</text>`,
        `<text x="${x + 10}" y="${chart.y + 10}" font-size="10" fill="#5f6368">${esc(tile.widget.xyChart.yAxis.label)}</text>`,
        `<line x1="${chart.x}" y1="${chart.y + chart.h}" x2="${chart.x + chart.w}" y2="${chart.y + chart.h}" stroke="#bdc1c6"/>`,
    ];
    for (let g = 1; g <= 3; g++) {
        const gy = chart.y + (chart.h * g) / 4;
        parts.push(`<line x1="${chart.x}" y1="${gy}" x2="${chart.x + chart.w}" y2="${gy}" stroke="#f1f3f4"/>`);
    }
    const sets = tile.widget.xyChart.dataSets;
    sets.forEach((_, k) => {
        const values = illustrative(index, k, 24);
        const points = values.map((v, i) => `${(chart.x + (chart.w * i) / (values.length - 1)).toFixed(1)},${(chart.y + chart.h * (1 - Math.max(0.03, Math.min(0.97, v)))).toFixed(1)}`);
        parts.push(`<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${points.join(" ")}"/>`);
        const lx = x + 12 + k * Math.floor((w - 24) / Math.max(sets.length, 2));
        parts.push(`<rect x="${lx}" y="${y + h - 30}" width="10" height="3" fill="${COLORS[k % COLORS.length]}"/>`,
            `<text x="${lx + 14}" y="${y + h - 26}" font-size="10" fill="#3c4043">${esc(legendOf(tile, k))}</text>`);
    });
    for (const t of tile.widget.xyChart.thresholds ?? []) {
        // Thresholds sit at a fixed height: the scale is illustrative, the value and direction are the alert's.
        const ty = chart.y + chart.h * (t.direction === "ABOVE" ? 0.15 : 0.85);
        parts.push(`<line x1="${chart.x}" y1="${ty}" x2="${chart.x + chart.w}" y2="${ty}" stroke="#d93025" stroke-dasharray="5 4"/>`,
            `<text x="${chart.x + chart.w}" y="${ty - 4}" font-size="10" text-anchor="end" fill="#d93025">${esc(`${t.label ?? "threshold"} (${t.direction === "ABOVE" ? ">" : "<"} ${t.value})`)}</text>`);
    }
    parts.push(`<text x="${x + 12}" y="${y + h - 10}" font-size="9" fill="#80868b">${esc(sets.map((s) => s.timeSeriesQuery.timeSeriesFilter.aggregation.perSeriesAligner.replace("ALIGN_", "").toLowerCase()).join(", "))}</text>`);
    return parts.join("\n");
}

/** The SVG of the example fleet's dashboard ("fleet"), with placeholder subscription names. */
export function renderDashboardSvg(): string {
    const layout = fleetDashboard("fleet", { push: "fleet-control-plane-uploads-push", deadLetter: "fleet-control-plane-uploads-dead-letter" }, DEFAULT_ALERT_THRESHOLDS);
    const tiles = layout.mosaicLayout.tiles;
    const rows = Math.max(...tiles.map((t) => t.yPos + t.height));
    const width = layout.mosaicLayout.columns * CELL_W + PAD;
    const height = HEADER + rows * CELL_H + FOOTER + PAD;
    const origin = { x: PAD / 2, y: HEADER };
    return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Roboto, Helvetica, Arial, sans-serif">`,
        `<rect width="${width}" height="${height}" fill="#f8f9fa"/>`,
        `<text x="${PAD + 4}" y="28" font-size="18" font-weight="600" fill="#202124">${esc(layout.displayName)}</text>`,
        ...tiles.map((t, i) => tileSvg(t, i, origin)),
        `<text x="${PAD + 4}" y="${height - 10}" font-size="10" fill="#80868b">Layout, titles, units, legends and alert thresholds from components/monitoring/dashboard.ts; the curves are illustrative, not measurements.</text>`,
        "</svg>",
        "",
    ].join("\n");
}
