export { type CompiledPipeline, compilePipeline } from './compile/states.ts';
export * from './constructs/index.ts';
export * from './spec/index.ts';
