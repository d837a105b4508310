// mailhealth fix / undo / history — filled in with the planner.
import type { Command } from 'commander';

export function registerFixCommands(_program: Command): void {}
