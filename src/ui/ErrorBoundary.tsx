import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  children: ReactNode;
  /** Shown in the message: which part failed. */
  where?: string;
}
interface State {
  error: Error | null;
}

/** Never a blank screen: a failed part shows what went wrong and a way out. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('gexdesk view error', error, info.componentStack);
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    if (this.props.where) {
      return (
        <div className="empty" role="alert">
          {this.props.where} could not be drawn: {error.message}{' '}
          <button className="btn" onClick={() => this.setState({ error: null })}>retry</button>
        </div>
      );
    }
    return (
      <div className="fatal" role="alert">
        <h1>gexdesk hit an error</h1>
        <p>The dashboard could not be drawn. The data feed is unaffected; reloading usually fixes it.</p>
        <pre>{error.message}</pre>
        <button className="btn primary" onClick={() => location.reload()}>Reload</button>
      </div>
    );
  }
}
