export * from './constructs/index.ts';
export * from './spec/index.ts';
