/**
 * The commands of `sluice`. Each module exports a registrar that adds its command (with its
 * options, help and action) to the program; a new command is one more entry in `registrars`.
 */
import type { Command } from 'commander';
import { registerApp } from './app.ts';
import { registerConsume } from './consume.ts';
import { registerLog } from './log.ts';
import { registerPlan } from './plan.ts';
import { registerProduce } from './produce.ts';
import { registerRun } from './run.ts';
import { registerSavepoint } from './savepoint.ts';
import { registerSql } from './sql.ts';
import { registerTopic } from './topic.ts';

/** Adds one command (or a group of subcommands) to the program. */
export type CommandRegistrar = (program: Command) => void;

/** In the order `sluice --help` lists them. */
export const registrars: readonly CommandRegistrar[] = [registerTopic, registerProduce, registerConsume, registerRun, registerSql, registerSavepoint, registerPlan, registerApp, registerLog];
