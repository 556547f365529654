// The objective a stage trains with, from its method and settings (methods/): CE, KD and the TAKD/DGKD chains, CTKD,
// AT, FitNets, RKD; and the check, before anything trains, that the teachers' feature maps pair with the student's.

import { Rng, noGrad, tidy, zeros } from '../../engine/index.ts';
import { createModel } from '../models/index.ts';
import { CrossEntropy, Distillation } from '../methods/kd.ts';
import { CollaborativeTeaching } from '../methods/ctkd.ts';
import { AttentionMatchError, matchAttentionGroups } from '../methods/attention_pairs.ts';
import { AttentionTransfer } from '../methods/at.ts';
import { FitNets, HintMatchError, HintRegressor, planHint, type FeatureShape } from '../methods/fitnets.ts';
import { RelationalKd } from '../methods/rkd.ts';
import type { Objective } from '../methods/objective.ts';
import type { ExperimentConfig } from '../settings/config.ts';
import { type Data, modelShape } from './data.ts';
import type { Stage } from './plan.ts';

export function makeObjective(cfg: ExperimentConfig, stage: Stage, data: Data): Objective {
  if (stage.method === 'ce') return new CrossEntropy();
  if (stage.method === 'ctkd') {
    const scratch = createModel(cfg.ctkd.scratch ?? cfg.teacher, modelShape(data, stage.seed + 1));
    return new CollaborativeTeaching(scratch, cfg.ctkd);
  }
  const x = stage.extra ?? {};
  const ce = x.ceWeight ?? 1;
  switch (stage.method) {
    case 'dkd':
    case 'dist':
      // DKD and DIST alone: CE plus the one teacher's term at weight 1 (their reference code's loss).
      return new Distillation(1, { temperature: x.temperature!, lambda: 1, klReduction: 'batchmean', ceWeight: ce, teacherLoss: x.teacherLoss, name: stage.method });
    case 'at':
      return new AttentionTransfer({ beta: x.at!.beta, ceWeight: ce });
    case 'fitnets': {
      const plan = planHint(featureShapes(stage.arch, data), featureShapes(stage.teachers[0].arch, data));
      return new FitNets(new HintRegressor(plan, new Rng(stage.seed ^ 0x4f17)), { weight: x.fitnets!.weight, ceWeight: ce });
    }
    case 'rkd':
      return new RelationalKd({ distance: x.rkd!.distance, angle: x.rkd!.angle, ceWeight: ce });
  }
  const kd = stage.kd!;
  const ceWeight = kd.ceWeight === 'paper' ? undefined : kd.ceWeight === 'official' ? 1 - kd.lambda : kd.ceWeight;
  const drop = stage.drop;
  return new Distillation(stage.teachers.length, {
    temperature: kd.temperature,
    lambda: kd.lambda,
    klReduction: kd.klReduction,
    ceWeight,
    normalise: kd.normalise,
    drop: drop ? drop.drop : 'none',
    keepProb: drop?.keepProb,
    dropK: drop?.k,
    ...(x.teacherLoss ? { teacherLoss: x.teacherLoss } : {}),
  });
}

/** Each stage output's size and channels for an architecture on this run's images (one eval-mode forward pass). */
function featureShapes(arch: string, data: Data): FeatureShape[] {
  const m = createModel(arch, modelShape(data, 0)).eval();
  const { height: H, width: W, channels: C } = data.train;
  let fs: FeatureShape[] = [];
  tidy(() => {
    fs = noGrad(() => m.forwardWithFeatures(zeros([1, H, W, C])).features.map((f) => ({ height: f.shape[1], width: f.shape[2], channels: f.shape[3] })));
  });
  m.dispose();
  return fs;
}

/**
 * CTKD's and AT's attention groups and FitNets' hint layers are matched before anything trains, so that an
 * unmatchable pair fails at once.
 */
export function checkAttentionPairs(cfg: ExperimentConfig, stages: Stage[], data: Data): void {
  for (const s of stages) {
    if (s.method === 'fitnets') {
      try {
        planHint(featureShapes(s.arch, data), featureShapes(s.teachers[0].arch, data));
      } catch (e) {
        if (e instanceof HintMatchError) throw new HintMatchError(`FitNets from ${s.teachers[0].arch} to ${s.arch}: ${e.message}`);
        throw e;
      }
      continue;
    }
    if (s.method !== 'ctkd' && s.method !== 'at') continue;
    if (s.method === 'ctkd' ? cfg.ctkd.beta === 0 : s.extra?.at?.beta === 0) continue;
    const targetArch = s.method === 'at' || cfg.ctkd.target === 'student' ? s.arch : (cfg.ctkd.scratch ?? cfg.teacher);
    try {
      matchAttentionGroups(featureShapes(targetArch, data), featureShapes(s.teachers[0].arch, data));
    } catch (e) {
      if (e instanceof AttentionMatchError) {
        throw new AttentionMatchError(`${s.method === 'at' ? 'AT' : 'CTKD'} between ${targetArch} and the ${s.method === 'at' ? 'teacher' : 'expert'} ${s.teachers[0].arch}: ${e.message}`);
      }
      throw e;
    }
  }
}
