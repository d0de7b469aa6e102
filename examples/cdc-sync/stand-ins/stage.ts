// Stands in for Athena under `stepwise run`: it gets the StartQueryExecution request the state machine
// sends, and returns the query execution as athena:startQueryExecution.sync would once it SUCCEEDED.
interface StartQueryExecution {
  QueryString: string;
  WorkGroup: string;
  ResultConfiguration: { OutputLocation: string };
  ExecutionParameters?: string[];
}

export async function handler(request: StartQueryExecution) {
  const placeholders = request.QueryString.split('?').length - 1;
  const given = request.ExecutionParameters?.length ?? 0;
  // Athena refuses a query whose parameters do not match its placeholders.
  if (placeholders !== given)
    throw new Error(`InvalidRequestException: the query has ${placeholders} parameters, ${given} were given`);
  const id = `local-${Date.now().toString(36)}`;
  return {
    QueryExecution: {
      QueryExecutionId: id,
      Query: request.QueryString,
      StatementType: 'DML',
      WorkGroup: request.WorkGroup,
      ExecutionParameters: request.ExecutionParameters,
      ResultConfiguration: { OutputLocation: `${request.ResultConfiguration.OutputLocation}${id}.csv` },
      Status: { State: 'SUCCEEDED' },
      Statistics: { DataScannedInBytes: 1_048_576, EngineExecutionTimeInMillis: 2_150 },
    },
  };
}
