import type { Module } from '@neurone/core';
import { Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Softmax, TanH } from '@neurone/layers';

/** Modules that keep the width of their input. */
function keepsWidth(m: Module): boolean {
  return m instanceof TanH || m instanceof Sigmoid || m instanceof ReLU || m instanceof Softmax || m instanceof LogSoftmax;
}

/**
 * The width a module expects, when its structure tells (a Linear, a TiedLinear, or a
 * Sequential whose first module with a fixed width is one); undefined otherwise.
 */
export function inputWidth(m: Module): number | undefined {
  if (m instanceof Linear) return m.inFeatures;
  if (m instanceof Sequential) {
    for (const c of m) {
      if (keepsWidth(c)) continue;
      return inputWidth(c);
    }
  }
  return undefined;
}

/** The width a module produces, when its structure tells (see inputWidth); undefined otherwise. */
export function outputWidth(m: Module): number | undefined {
  if (m instanceof Linear) return m.outFeatures;
  if (m instanceof Sequential) {
    const list = [...m];
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      if (keepsWidth(c)) continue;
      return outputWidth(c);
    }
  }
  return undefined;
}
