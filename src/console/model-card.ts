// What the console shows about the loaded model bundle: the manifest's version, image spec,
// sessionization, training summary and quality figures, the clusters, and each cluster's
// prototype drawn once per load as `journeylens render --cluster` draws it, without the title
// line (the title's length sets the PNG's width; untitled, every prototype of a bundle has the
// same size, so the gallery lines up, and the page shows the label beside the image).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FILES, type BundleCluster, type ClustersFile } from '../contracts/bundle-format.ts';
import { resolveRiskSetting, type RiskSetting, type RiskThresholds } from '../contracts/risk.ts';
import { type ImageSpec, type SessionizationSpec } from '../journey/image-spec.ts';
import { readBundleJson, verifyBundle } from '../model/bundle-manifest.ts';
import { readClusterPrototypes } from '../model/prototypes.ts';
import { budgetQuantiles, parseLogisticModel } from '../model/readout.ts';
import { renderJourneyPng } from '../render/image-png.ts';

/** A scalar of the manifest's free-form sections, as the API sends it. */
export type Figure = number | string | boolean | null;

export interface ModelCard {
  dir: string;
  modelVersion: string;
  createdAt: string;
  /** When this process loaded it (ms). */
  loadedAt: number;
  imageSpec: ImageSpec;
  sessionization: SessionizationSpec;
  training: Record<string, Figure>;
  metrics: Record<string, Figure>;
  clusters: Omit<BundleCluster, 'prototype'>[];
  /** Cluster id → prototype PNG (absent when the bundle has no prototypes). */
  prototypes: Map<number, Buffer>;
  /** Where this bundle's medium and high bands begin: the risk setting resolved as `run` resolves it. */
  thresholds: RiskThresholds;
}

/**
 * Scalars of a manifest section, with nested objects flattened one level
 * (`clusterSpace.dwellWeight`); arrays and deeper objects are left out, so a newer bundle's
 * figures appear without a page change and nothing large is sent.
 */
export function flattenFigures(section: unknown): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  if (typeof section !== 'object' || section === null) return out;
  const scalar = (v: unknown): v is Figure => v === null || ['number', 'string', 'boolean'].includes(typeof v);
  for (const [k, v] of Object.entries(section)) {
    if (scalar(v)) out[k] = v;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) if (scalar(v2)) out[`${k}.${k2}`] = v2;
    }
  }
  return out;
}

/** Reads and verifies the bundle (checksums included), draws its prototypes and resolves the risk setting for it. */
export function loadModelCard(dir: string, now: number, risk: RiskSetting): ModelCard {
  const manifest = verifyBundle(dir, { requiredFiles: [BUNDLE_FILES.clusters] });
  // budgets ("high=top5%") resolve against the readout's stored risk distribution
  const readout = BUNDLE_FILES.readout in manifest.files ? parseLogisticModel(readBundleJson<unknown>(dir, BUNDLE_FILES.readout), `model bundle ${dir}: ${BUNDLE_FILES.readout}`) : undefined;
  const thresholds = resolveRiskSetting(risk, budgetQuantiles(readout), '--risk (env JOURNEYLENS_RISK)');
  const file = readBundleJson<ClustersFile>(dir, BUNDLE_FILES.clusters);
  const prototypes = new Map<number, Buffer>();
  if (BUNDLE_FILES.prototypes in manifest.files && existsSync(join(dir, BUNDLE_FILES.prototypes))) {
    for (const [id, image] of readClusterPrototypes(dir, file)) prototypes.set(id, renderJourneyPng(image, manifest.imageSpec));
  }
  return {
    dir,
    modelVersion: manifest.modelVersion,
    createdAt: manifest.createdAt,
    loadedAt: now,
    imageSpec: manifest.imageSpec,
    sessionization: manifest.sessionization,
    training: flattenFigures(manifest.training),
    metrics: flattenFigures(manifest.metrics),
    clusters: [...file.clusters].sort((a, b) => a.id - b.id).map(({ prototype: _offset, ...c }) => c),
    prototypes,
    thresholds,
  };
}
