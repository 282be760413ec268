import { createContext, useContext } from 'react';
import type { WorkerClient } from '../state/worker-client.ts';

export const WorkerClientContext = createContext<WorkerClient | null>(null);

export function useWorkerClient(): WorkerClient | null {
  return useContext(WorkerClientContext);
}
