"""Classify py-spy raw stacks: the relay, the consumer runner around the handlers, the handlers."""
import sys, collections
rows = []
for l in open(sys.argv[1]):
    if l.strip():
        s, c = l.rstrip('\n').rsplit(' ', 1); rows.append((s.split(';'), int(c)))
total = sum(c for _, c in rows)
cls = collections.Counter(); detail = collections.defaultdict(collections.Counter)
for frames, c in rows:
    text = ';'.join(frames)
    if 'OutboxRelay' in text:
        k = 'relay'
        # the innermost relay frame and the next one
        idx = max(i for i, f in enumerate(frames) if 'OutboxRelay' in f or 'shared/outbox.py' in f)
        detail[k][' > '.join(f.split(' (')[0] for f in frames[idx:idx+2])] += c
    elif 'shared/kafka/consumer.py' in text:
        # where the runner hands over to the service
        svc = [i for i, f in enumerate(frames) if 'services/' in f or '_QuietHandlers' in f]
        disp = [i for i, f in enumerate(frames) if 'EventHandlers.dispatch' in f]
        if disp and not any(i > disp[-1] for i in svc):
            k = 'runner: per-event dispatch wrapper'
            detail[k][frames[disp[-1]+1].split(' (')[0] if len(frames) > disp[-1]+1 else '(self)'] += c
        elif disp or svc:
            k = 'handlers'
        else:
            k = 'runner: poll/decode/claim/commit'
            idx = max(i for i, f in enumerate(frames) if 'shared/kafka/consumer.py' in f)
            detail[k][' > '.join(f.split(' (')[0] for f in frames[idx:idx+2])] += c
    elif 'greenlet' in text or 'sqlalchemy' in text:
        k = 'greenlet/sqlalchemy stacks (unattributed)'
    elif 'selectors.py' in text and 'EpollSelector.select' in frames[-1]:
        k = 'epoll wait'
    else:
        k = 'other'
        detail[k][frames[-1].split(' (')[0]] += c
    cls[k] += c
print('samples', total)
for k, v in cls.most_common():
    print(f'{100*v/total:6.1f} %  {k}')
    for d, n in detail[k].most_common(8):
        print(f'        {100*n/total:5.1f} %  {d}')
