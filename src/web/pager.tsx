/** Previous and Next over a cursor listing: `after` is the stack of cursors of the pages seen. */
export function Pager({ after, setAfter, nextCursor }: { after: number[]; setAfter: (next: number[]) => void; nextCursor: number | null | undefined }) {
  return (
    <div class="pager">
      {after.length > 1 && <button class="small" onClick={() => setAfter(after.slice(0, -1))}>Previous</button>}
      {nextCursor != null && <button class="small" onClick={() => setAfter([...after, nextCursor])}>Next</button>}
    </div>
  );
}
