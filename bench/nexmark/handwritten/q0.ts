import type { Emit, EventAt } from './types.ts';

export function q0(count: number, eventAt: EventAt, emit: Emit): void {
  for (let i = 0; i < count; i++) emit(eventAt(i));
}
