<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name></name>
    <message>
        <source>Make the loop end or the tensors smaller, then run again. Stop (Ctrl+.) ends a run that takes too long.</source>
        <translation>让循环能够结束，或把张量改小，然后重新运行。运行太久时，可以用“停止”（Ctrl+.）结束它。</translation>
    </message>
    <message>
        <source>No graph to draw: {0}.

{1}

What the snippet printed is in Output.</source>
        <translation>没有可画的计算图：{0}。

{1}

代码片段打印的内容在“输出”面板里。</translation>
    </message>
    <message>
        <source>nothing requires grad</source>
        <translation>没有张量需要梯度</translation>
    </message>
    <message>
        <source>No graph to draw.

{0}

{1}</source>
        <translation>没有可画的计算图。

{0}

{1}</translation>
    </message>
    <message>
        <source>No graph: the snippet is empty. Type some PyTorch code (or open one from Examples), then press Run.</source>
        <translation>没有计算图：代码片段是空的。输入一段 PyTorch 代码（或者从“示例”菜单打开一个），然后按“运行”。</translation>
    </message>
    <message>
        <source>No graph: Python could not read line {0}, so none of the snippet ran. See Errors.</source>
        <translation>没有计算图：Python 读不懂第 {0} 行，所以代码片段一行都没有运行。请看“错误”面板。</translation>
    </message>
    <message>
        <source>No graph: the run was ended at line {0}, and no graph came back from it. See Errors.</source>
        <translation>没有计算图：运行在第 {0} 行被终止，没有传回计算图。请看“错误”面板。</translation>
    </message>
    <message>
        <source>No graph: the run was ended, and no graph came back from it. See Errors.</source>
        <translation>没有计算图：运行被终止，没有传回计算图。请看“错误”面板。</translation>
    </message>
    <message>
        <source>No graph: the snippet stopped at line {0} before any tensor with a grad_fn was built. See Errors.</source>
        <translation>没有计算图：代码片段在第 {0} 行停了下来，那时还没有产生任何带 grad_fn 的张量。请看“错误”面板。</translation>
    </message>
    <message>
        <source>No graph: the snippet stopped before any tensor with a grad_fn was built. See Errors.</source>
        <translation>没有计算图：代码片段在产生带 grad_fn 的张量之前就停了下来。请看“错误”面板。</translation>
    </message>
    <message>
        <source>No graph: the snippet made no tensor with a grad_fn.</source>
        <translation>没有计算图：代码片段没有产生带 grad_fn 的张量。</translation>
    </message>
    <message>
        <source>line {0}: {1}</source>
        <translation>第 {0} 行：{1}</translation>
    </message>
    <message>
        <source>gradstep: {0}{1} from the root</source>
        <translation>gradstep：从根节点执行 {0}{1}</translation>
    </message>
    <message>
        <source>no steps: is_grads_batched=True runs the pass on vmap&apos;s batch of gradients, which gradstep does not read</source>
        <translation>没有步骤：is_grads_batched=True 让这次反向传播在 vmap 的一批梯度上运行，gradstep 不读取它们</translation>
    </message>
    <message>
        <source>no steps: a tensor subclass&apos;s own code carries the gradients, which gradstep does not run</source>
        <translation>没有步骤：梯度由某个张量子类自己的代码承载，gradstep 不运行这些代码</translation>
    </message>
    <message>
        <source>no steps: a gradient was changed in place during the pass (a hook or a custom Function&apos;s backward), so what the steps kept is not what torch sent</source>
        <translation>没有步骤：这次反向传播中有梯度被原地修改（某个 hook 或自定义 Function 的 backward），步骤记下的已不是 torch 当时传递的值</translation>
    </message>
    <message>
        <source>no steps: another pass ran through these nodes at the same time</source>
        <translation>没有步骤：同时有另一次反向传播经过这些节点</translation>
    </message>
    <message>
        <source>no steps: the recorded values could not be read</source>
        <translation>没有步骤：记录的值无法读取</translation>
    </message>
    <message>
        <source>no steps: the pass could not be hooked (compiled autograd)</source>
        <translation>没有步骤：无法在这次反向传播上挂 hook（compiled autograd）</translation>
    </message>
    <message>
        <source>{0} roots: torch&apos;s engine first ran a GraphRoot node of its own that hands each root its gradient; it is no node of the graph, so it has no step here</source>
        <translation>{0} 个根：torch 的引擎先运行了它自己的 GraphRoot 节点，把梯度交给每个根；它不是图中的节点，所以这里没有它的步骤</translation>
    </message>
    <message>
        <source>{0} step</source>
        <translation>{0} 步</translation>
    </message>
    <message>
        <source>{0} steps</source>
        <translation>{0} 步</translation>
    </message>
    <message>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <source>Step through a real PyTorch backward pass, node by node.</source>
        <translation>逐个节点地单步执行真实的 PyTorch 反向传播。</translation>
    </message>
    <message>
        <source>MIT License.</source>
        <translation>MIT 许可证。</translation>
    </message>
    <message>
        <source>About gradstep</source>
        <translation>关于 gradstep</translation>
    </message>
    <message>
        <source>Infinity</source>
        <translation>无穷大</translation>
    </message>
    <message>
        <source>, line {0}</source>
        <translation>，第 {0} 行</translation>
    </message>
    <message>
        <source>{0} starts at {1}{2}</source>
        <translation>{0} 从 {1} 开始出现{2}</translation>
    </message>
    <message>
        <source>{0} first seen at {1}{2}</source>
        <translation>{0} 最先出现在 {1}{2}</translation>
    </message>
    <message>
        <source>{0} starts in the gradient of {1}{2}</source>
        <translation>{0} 从 {1} 的梯度开始出现{2}</translation>
    </message>
    <message>
        <source>{0} first seen in the gradient of {1}{2}</source>
        <translation>{0} 最先出现在 {1} 的梯度中{2}</translation>
    </message>
    <message>
        <source>gradients vanish in {0}: |grad|/|weight| = {1:.2g}</source>
        <translation>{0} 中梯度消失：|grad|/|weight| = {1:.2g}</translation>
    </message>
    <message>
        <source>gradients explode in {0}: |grad|/|weight| = {1:.2g}</source>
        <translation>{0} 中梯度爆炸：|grad|/|weight| = {1:.2g}</translation>
    </message>
    <message>
        <source>{0}: {1:.0%} of the gradient is exactly zero (dead units?)</source>
        <translation>{0}：梯度中有 {1:.0%} 恰好为零（单元死掉了？）</translation>
    </message>
    <message>
        <source>{0}: {1}</source>
        <translation>{0}：{1}</translation>
    </message>
    <message>
        <source>slot {0}</source>
        <translation>槽 {0}</translation>
    </message>
    <message>
        <source>The value of its input {0} ({1}) was not captured: run again with deep values to look inside.</source>
        <translation>没有捕获到它的输入 {0}（{1}）的值：用“深度记录数值”重新运行可以看到内部。</translation>
    </message>
    <message>
        <source>Its input {0} does not require grad (data or a constant); gradstep does not see its value.</source>
        <translation>它的输入 {0} 不需要梯度（数据或常数）；gradstep 看不到它的值。</translation>
    </message>
    <message>
        <source>So this is where NaN/Inf is first seen, not proven to start.</source>
        <translation>所以这里只是最先看到 NaN/Inf 的地方，不能确定它就是从这里开始的。</translation>
    </message>
    <message>
        <source>Carried on by {0} node(s), framed with dashes on the graph.</source>
        <translation>之后由 {0} 个节点继续传递，它们在计算图上用虚线框标出。</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>line {0}</source>
        <translation>第 {0} 行</translation>
    </message>
    <message>
        <source>in the backward pass gradstep ran from the root (Backward again), not on a line of the snippet</source>
        <translation>发生在 gradstep 从根节点执行的反向传播中（“再次反向传播”），不在代码片段的某一行上</translation>
    </message>
    <message>
        <source>What happened.</source>
        <translation>发生了什么：</translation>
    </message>
    <message>
        <source>How to fix it.</source>
        <translation>怎么改：</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Run the snippet (Ctrl+Enter)</source>
        <translation>运行代码片段（Ctrl+Enter）</translation>
    </message>
    <message>
        <source>Values</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Saved tensors &amp;&amp; retain_graph</source>
        <translation>已保存的张量 &amp;&amp; retain_graph</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Leaf gradients</source>
        <translation>叶子节点的梯度</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>保存(&amp;S)</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>另存为(&amp;A)…</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>E&amp;xamples</source>
        <translation>示例(&amp;X)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Deep values (may change which kernels torch picks)</source>
        <translation>深度记录数值(&amp;D)（可能改变 torch 选择的内核）</translation>
    </message>
    <message>
        <source>Record the output of every torch call inside library code too, so more nodes show a value. A Python mode is then active while the snippet runs, which can change the kernels and fast paths torch picks.</source>
        <translation>连库代码内部每一次 torch 调用的输出也记录下来，这样更多节点能显示数值。这时代码片段运行期间会启用一个 Python 模式，它可能改变 torch 选择的内核和快速路径。</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About gradstep</source>
        <translation>关于 gradstep(&amp;A)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the running snippet (Ctrl+.)</source>
        <translation>停止正在运行的代码片段（Ctrl+.）</translation>
    </message>
    <message>
        <source>no backward pass yet</source>
        <translation>还没有执行反向传播</translation>
    </message>
    <message>
        <source>{0} of {1} nodes with saved tensors have freed them</source>
        <translation>在 {1} 个保存了张量的节点中，有 {0} 个已经释放了它们</translation>
    </message>
    <message>
        <source>the pass failed here ({0}); {1}.</source>
        <translation>这次反向传播在这里失败了（{0}）；{1}。</translation>
    </message>
    <message>
        <source>retain_graph=True: every node keeps its saved tensors after it runs; {0}.</source>
        <translation>retain_graph=True：每个节点运行后都保留它已保存的张量；{0}。</translation>
    </message>
    <message>
        <source>retain_graph=False: each node frees its saved tensors right after it runs; {0}.</source>
        <translation>retain_graph=False：每个节点一运行完就释放它已保存的张量；{0}。</translation>
    </message>
    <message>
        <source>Reset</source>
        <translation>回到开头</translation>
    </message>
    <message>
        <source>Step back</source>
        <translation>后退一步</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>单步前进</translation>
    </message>
    <message>
        <source>Run to end</source>
        <translation>运行到最后</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>Backward again</source>
        <translation>再次反向传播</translation>
    </message>
    <message>
        <source>Zero grads</source>
        <translation>梯度清零</translation>
    </message>
    <message>
        <source>column</source>
        <translation>列</translation>
    </message>
    <message>
        <source>row</source>
        <translation>行</translation>
    </message>
    <message>
        <source>index</source>
        <translation>下标</translation>
    </message>
    <message>
        <source>No Jacobian: torch freed this node&apos;s saved tensors in a backward pass without retain_graph=True, and none was computed before.</source>
        <translation>没有雅可比矩阵：torch 在一次未设 retain_graph=True 的反向传播中释放了这个节点保存的张量，此前也没有算过。</translation>
    </message>
    <message>
        <source>Too large to show as a matrix ({0}).</source>
        <translation>太大了，无法以矩阵显示（{0}）。</translation>
    </message>
    <message>
        <source>Too large to show as a matrix.</source>
        <translation>太大了，无法以矩阵显示。</translation>
    </message>
    <message>
        <source>A leaf has no local Jacobian: it only adds what arrives into .grad.</source>
        <translation>叶子节点没有局部雅可比矩阵：它只是把传来的梯度累加到 .grad 里。</translation>
    </message>
    <message>
        <source>Not available for this node ({0}).</source>
        <translation>这个节点无法显示（{0}）。</translation>
    </message>
    <message>
        <source>Not available for this node.</source>
        <translation>这个节点无法显示。</translation>
    </message>
    <message>
        <source>Not available.</source>
        <translation>无法显示。</translation>
    </message>
    <message>
        <source>No Jacobian: its saved tensors are alive at this step, but a backward pass without retain_graph=True freed them later, and none was computed while they were alive.</source>
        <translation>没有雅可比矩阵：在这一步它保存的张量仍然存在，但之后一次未设 retain_graph=True 的反向传播释放了它们，而在它们存在时没有算过。</translation>
    </message>
    <message>
        <source>No Jacobian: by the end of the run torch had freed this node&apos;s saved tensors (a backward pass without retain_graph=True), and none was computed before.</source>
        <translation>没有雅可比矩阵：到运行结束时，torch 已释放这个节点保存的张量（一次未设 retain_graph=True 的反向传播），此前也没有算过。</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Reset Zoom</source>
        <translation>恢复原始大小(&amp;R)</translation>
    </message>
    <message>
        <source>The size of all text in the window (the graph has its own zoom)</source>
        <translation>窗口中所有文字的大小（计算图有自己的缩放）</translation>
    </message>
    <message>
        <source>Zoom &amp;graph in</source>
        <translation>放大计算图(&amp;G)</translation>
    </message>
    <message>
        <source>Zoom graph o&amp;ut</source>
        <translation>缩小计算图(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Fit graph to window</source>
        <translation>计算图适应窗口(&amp;F)</translation>
    </message>
    <message>
        <source>F&amp;ind node</source>
        <translation>查找节点(&amp;I)</translation>
    </message>
    <message>
        <source>Left to &amp;right layout</source>
        <translation>从左到右布局(&amp;R)</translation>
    </message>
    <message>
        <source>Fold &amp;modules</source>
        <translation>折叠模块(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Unfold all</source>
        <translation>全部展开(&amp;U)</translation>
    </message>
    <message>
        <source>Fold all modules</source>
        <translation>折叠所有模块</translation>
    </message>
    <message>
        <source>Fold to depth {0}</source>
        <translation>折叠到第 {0} 层</translation>
    </message>
    <message>
        <source>(no modules in this graph)</source>
        <translation>（这个计算图里没有模块）</translation>
    </message>
    <message>
        <source>Fit the panels to the &amp;window</source>
        <translation>面板随窗口调整宽度(&amp;W)</translation>
    </message>
    <message>
        <source>The right column takes its share of the window&apos;s width again after it was dragged (or double-click its edge)</source>
        <translation>拖动过右侧面板栏之后，让它重新按窗口宽度占一定比例（也可以双击它的边缘）</translation>
    </message>
    <message>
        <source>scalar</source>
        <translation>标量</translation>
    </message>
    <message>
        <source>{0}: mean {1}</source>
        <translation>{0}：均值 {1}</translation>
    </message>
    <message>
        <source>{0}: finite min {1} finite max {2}</source>
        <translation>{0}：有限元素最小值 {1} 有限元素最大值 {2}</translation>
    </message>
    <message>
        <source>{0}: min {1} max {2}</source>
        <translation>{0}：最小值 {1} 最大值 {2}</translation>
    </message>
    <message>
        <source>{0}: |z| finite min {1} finite max {2} mean {3}</source>
        <translation>{0}：|z| 有限元素最小值 {1} 有限元素最大值 {2} 均值 {3}</translation>
    </message>
    <message>
        <source>{0}: |z| min {1} max {2} mean {3}</source>
        <translation>{0}：|z| 最小值 {1} 最大值 {2} 均值 {3}</translation>
    </message>
    <message>
        <source>{0}: finite min {1} finite max {2} mean {3}</source>
        <translation>{0}：有限元素最小值 {1} 有限元素最大值 {2} 均值 {3}</translation>
    </message>
    <message>
        <source>{0}: min {1} max {2} mean {3}</source>
        <translation>{0}：最小值 {1} 最大值 {2} 均值 {3}</translation>
    </message>
    <message>
        <source>shape {0}</source>
        <translation>形状 {0}</translation>
    </message>
    <message>
        <source>min</source>
        <translation>最小值</translation>
    </message>
    <message>
        <source>max</source>
        <translation>最大值</translation>
    </message>
    <message>
        <source>mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <source>std</source>
        <translation>标准差</translation>
    </message>
    <message>
        <source>nan</source>
        <translation>NaN 个数</translation>
    </message>
    <message>
        <source>inf</source>
        <translation>Inf 个数</translation>
    </message>
    <message>
        <source>finite min</source>
        <translation>有限元素最小值</translation>
    </message>
    <message>
        <source>finite max</source>
        <translation>有限元素最大值</translation>
    </message>
    <message>
        <source>not run yet in this pass</source>
        <translation>这一遍中还没有运行</translation>
    </message>
    <message>
        <source>not run in this pass</source>
        <translation>这一遍中没有运行</translation>
    </message>
    <message>
        <source>this pass&apos;s steps are not shown</source>
        <translation>这一遍的步骤没有显示</translation>
    </message>
    <message>
        <source>▶ runs next</source>
        <translation>▶ 下一步运行</translation>
    </message>
    <message>
        <source>✓ ran (its saved tensors are kept)</source>
        <translation>✓ 已运行（已保存的张量仍保留着）</translation>
    </message>
    <message>
        <source>✓ ran (it saved no tensors)</source>
        <translation>✓ 已运行（它没有保存张量）</translation>
    </message>
    <message>
        <source>∅ its saved tensors are freed</source>
        <translation>∅ 已保存的张量已被释放</translation>
    </message>
    <message>
        <source>✗ torch raised here</source>
        <translation>✗ torch 在这里报错</translation>
    </message>
    <message>
        <source>detached in place since it was saved (torch refuses it)</source>
        <translation>保存后被原地 detach（torch 拒绝使用它）</translation>
    </message>
    <message>
        <source>detached in place during this pass by a hook or a custom Function&apos;s backward: torch refuses it at the step that raised; whether already here is not recorded</source>
        <translation>这次反向传播中被某个钩子或自定义 Function 的 backward 原地 detach：torch 在抛出错误的那一步拒绝使用它；在这一步时是否已被 detach，没有记录</translation>
    </message>
    <message>
        <source>changed in place during this pass by a hook or a custom Function&apos;s backward (saved at version {0}): torch refuses it at the step that raised; whether already here is not recorded</source>
        <translation>这次反向传播中被某个钩子或自定义 Function 的 backward 原地修改（保存时是版本 {0}）：torch 在抛出错误的那一步拒绝使用它；在这一步时是否已被修改，没有记录</translation>
    </message>
    <message>
        <source>changed in place: version {0}, saved at version {1}</source>
        <translation>保存后被原地修改：现在是版本 {0}，保存时是版本 {1}</translation>
    </message>
    <message>
        <source>a view at version {0}: torch refuses it at backward if it was saved at another version, which only reading it tells, and reading it could make torch rebuild the view&apos;s node</source>
        <translation>版本为 {0} 的视图：如果它被保存时是别的版本，torch 会在反向传播时拒绝它；只有读取它才能知道，而读取可能让 torch 重建这个视图的节点</translation>
    </message>
    <message>
        <source>This is the value before gradstep&apos;s backward pass, the one the forward used: a hook wrote the leaf in place during that pass (version {0} after it, {1} before).</source>
        <translation>这是 gradstep 运行反向传播之前的值，也就是前向传播用到的值：某个钩子在那次反向传播中原地修改了这个叶子张量（之后是版本 {0}，之前是版本 {1}）。</translation>
    </message>
    <message>
        <source>label: {0}</source>
        <translation>标签：{0}</translation>
    </message>
    <message>
        <source>module: {0}</source>
        <translation>模块：{0}</translation>
    </message>
    <message>
        <source>{0} ops folded (double-click to unfold)</source>
        <translation>折叠了 {0} 个运算（双击展开）</translation>
    </message>
    <message>
        <source>shape: {0}  dtype: {1}</source>
        <translation>形状：{0}  dtype：{1}</translation>
    </message>
    <message>
        <source>device: {0}</source>
        <translation>设备：{0}</translation>
    </message>
    <message>
        <source>value: {0}</source>
        <translation>值：{0}</translation>
    </message>
    <message>
        <source>value: not captured</source>
        <translation>值：未捕获</translation>
    </message>
    <message>
        <source>state: {0}</source>
        <translation>状态：{0}</translation>
    </message>
    <message>
        <source>{0}.grad now: {1}</source>
        <translation>{0}.grad 现在是：{1}</translation>
    </message>
    <message>
        <source>freed</source>
        <translation>已释放</translation>
    </message>
    <message>
        <source>alive</source>
        <translation>仍保留</translation>
    </message>
    <message>
        <source>This is the value at the end of the snippet: it was written during the pass (by a hook: an optimizer step?), so the forward did not use it.</source>
        <translation>这是代码片段结束时的值：它在反向传播进行中被修改了（由钩子修改：优化器的一步？），前向传播用的不是这个值。</translation>
    </message>
    <message>
        <source>This is the value at the end of the snippet: it was written during the pass (by a hook: an optimizer step? version {0}, the pass began at version {1}), so it may not be the value the forward used.</source>
        <translation>这是代码片段结束时的值：它在反向传播进行中被修改了（由钩子修改：优化器的一步？现在是版本 {0}，反向传播开始时是版本 {1}），所以它可能不是前向传播所用的值。</translation>
    </message>
    <message>
        <source>This is the value at the end of the snippet: it was written after the pass (an optimizer step?), so the forward did not use it.</source>
        <translation>这是代码片段结束时的值：它在反向传播之后被修改了（优化器的一步？），前向传播用的不是这个值。</translation>
    </message>
    <message>
        <source>This is the value at the end of the snippet: it was written after the pass (an optimizer step? version {0}, the pass ran at version {1}), so it may not be the value the forward used.</source>
        <translation>这是代码片段结束时的值：它在反向传播之后被修改了（优化器的一步？现在是版本 {0}，反向传播时是版本 {1}），所以它可能不是前向传播所用的值。</translation>
    </message>
    <message>
        <source>saved: {0}</source>
        <translation>已保存：{0}</translation>
    </message>
    <message>
        <source>no formula: {0}</source>
        <translation>没有公式：{0}</translation>
    </message>
    <message>
        <source>local gradient:</source>
        <translation>局部梯度：</translation>
    </message>
    <message>
        <source>… {0} more inputs</source>
        <translation>…还有 {0} 个输入</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>System ({0})</source>
        <translation>跟随系统（{0}）</translation>
    </message>
    <message>
        <source>Not available here</source>
        <translation>此处不可用</translation>
    </message>
    <message>
        <source>Call gradstep.backward(...) or gradstep.show(...) again in your program, or type a snippet here and run it (Ctrl+Enter).</source>
        <translation>请在你的程序中再次调用 gradstep.backward(...) 或 gradstep.show(...)，或者在这里输入一段代码并运行（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>The graph was made in your program; its device is shown on the nodes.</source>
        <translation>这张计算图是在你的程序里构建的；它所在的设备显示在节点上。</translation>
    </message>
    <message>
        <source>gradstep — {0}</source>
        <translation>gradstep — {0}（来自你的程序）</translation>
    </message>
    <message>
        <source>Shown from your program. Step through backward with Alt+Right.</source>
        <translation>来自你的程序。按 Alt+Right 逐步执行反向传播。</translation>
    </message>
    <message>
        <source># Shown from your program:</source>
        <translation># 来自你的程序：</translation>
    </message>
    <message>
        <source>{0}, line {1}</source>
        <translation>{0}，第 {1} 行</translation>
    </message>
    <message>
        <source># Its tensors stay there, so the local</source>
        <translation># 它的张量留在你的程序里，因此局部</translation>
    </message>
    <message>
        <source># Jacobian, Backward again and Zero grads</source>
        <translation># 雅可比矩阵、再次反向传播和梯度清零</translation>
    </message>
    <message>
        <source># are not available for this graph.</source>
        <translation># 对这张计算图不可用。</translation>
    </message>
    <message>
        <source># Type a snippet here and press Ctrl+Enter</source>
        <translation># 在这里输入一段代码并按 Ctrl+Enter</translation>
    </message>
    <message>
        <source># to run it in gradstep&apos;s own kernel.</source>
        <translation># 在 gradstep 自己的内核中运行它。</translation>
    </message>
    <message>
        <source>&amp;Full screen graph</source>
        <translation>全屏显示计算图(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Presentation mode</source>
        <translation>演示模式(&amp;P)</translation>
    </message>
    <message>
        <source>The graph on the whole screen; → or Space steps forward, ← back, Esc leaves</source>
        <translation>计算图占满整个屏幕；→ 或空格键前进一步，← 后退一步，Esc 退出</translation>
    </message>
    <message>
        <source>Leave full screen</source>
        <translation>退出全屏</translation>
    </message>
    <message>
        <source>Next step</source>
        <translation>下一步</translation>
    </message>
    <message>
        <source>Previous step</source>
        <translation>上一步</translation>
    </message>
    <message>
        <source>First step</source>
        <translation>第一步</translation>
    </message>
    <message>
        <source>Last step</source>
        <translation>最后一步</translation>
    </message>
    <message>
        <source>The caption whole or short</source>
        <translation>说明文字完整或简短地显示</translation>
    </message>
</context>
<context>
    <name>QtDeviceSelector</name>
    <message>
        <source>Device the snippet runs on; switching re-runs it there</source>
        <translation>代码片段运行所在的设备；切换后会在新设备上重新运行</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>available</source>
        <translation>可用</translation>
    </message>
    <message>
        <source>unavailable: {0}</source>
        <translation>不可用：{0}</translation>
    </message>
</context>
<context>
    <name>QtDiagnose</name>
    <message>
        <source>Diagnose</source>
        <translation>诊断</translation>
    </message>
    <message>
        <source>NaN/Inf banner</source>
        <translation>NaN/Inf 提示条</translation>
    </message>
    <message>
        <source>&amp;Diagnose</source>
        <translation>诊断(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Diagnose this run</source>
        <translation>诊断这次运行(&amp;D)</translation>
    </message>
    <message>
        <source>Running with deep values: a Python mode records every torch call, which can change the kernels torch picks.</source>
        <translation>正在深度记录数值运行：一个 Python 模式会记录每一次 torch 调用，这可能改变 torch 选择的内核。</translation>
    </message>
</context>
<context>
    <name>QtDiagnoseBanner</name>
    <message>
        <source>Diagnose</source>
        <translation>诊断</translation>
    </message>
    <message>
        <source>Hide this message</source>
        <translation>隐藏这条提示</translation>
    </message>
    <message>
        <source>This run produced NaN/Inf. {0}</source>
        <translation>这次运行产生了 NaN/Inf。{0}</translation>
    </message>
</context>
<context>
    <name>QtDiagnoseMarks</name>
    <message>
        <source>NaN/Inf starts here</source>
        <translation>NaN/Inf 从这里开始</translation>
    </message>
    <message>
        <source>carries NaN/Inf</source>
        <translation>传递 NaN/Inf</translation>
    </message>
    <message>
        <source>NaN/Inf grad</source>
        <translation>NaN/Inf 梯度</translation>
    </message>
</context>
<context>
    <name>QtDiagnosePanel</name>
    <message>
        <source>Run again with deep values</source>
        <translation>深度记录数值后重新运行</translation>
    </message>
    <message>
        <source>Some values inside library code were not captured, so a finding may only be where NaN/Inf was first seen. Deep values record every torch call&apos;s output; the Python mode that takes can change which kernels torch picks, so the run may differ.</source>
        <translation>库代码内部有些值没有捕获到，所以诊断结果可能只是最先看到 NaN/Inf 的地方。深度记录数值会记录每一次 torch 调用的输出；为此启用的 Python 模式可能改变 torch 选择的内核，所以运行结果可能不同。</translation>
    </message>
    <message>
        <source>Fold parameters by module</source>
        <translation>按模块合并参数</translation>
    </message>
    <message>
        <source>Gradient flow, input side first</source>
        <translation>梯度流动（从输入侧开始）</translation>
    </message>
    <message>
        <source>Bars: |grad| / |weight| per layer, the speed an SGD step changes it at. Vanishing: below 1e-5 of the fastest layer&apos;s; exploding: above 1e3; dead: half or more of the gradient exactly zero.</source>
        <translation>柱子：每一层的 |grad| / |weight|，即一步 SGD 更新改变它的速度。梯度消失：低于最快那一层的 1e-5；梯度爆炸：高于 1e3；死亡：一半以上的梯度恰好为零。</translation>
    </message>
    <message>
        <source>The last run built no graph: see Errors and Output.</source>
        <translation>上一次运行没有建立计算图：请看“错误”和“输出”面板。</translation>
    </message>
    <message>
        <source>Run a snippet to diagnose it.</source>
        <translation>运行一个代码片段来诊断它。</translation>
    </message>
    <message>
        <source>&lt;b&gt;NaN/Inf found.&lt;/b&gt; {0}</source>
        <translation>&lt;b&gt;发现了 NaN/Inf。&lt;/b&gt;{0}</translation>
    </message>
    <message>
        <source>No NaN or infinity in the recorded values and gradients.</source>
        <translation>记录下来的值和梯度中没有 NaN 或无穷大。</translation>
    </message>
    <message>
        <source>{0} gradient-flow warning(s).</source>
        <translation>梯度流动警告 {0} 条。</translation>
    </message>
    <message>
        <source>Reading the gradients…</source>
        <translation>正在读取梯度…</translation>
    </message>
    <message>
        <source>{0} of these layers were written in place after the first recorded backward call through this graph (an optimizer step?): their |weight| and ratio are of the new weights, not of those the gradient was computed at.</source>
        <translation>其中 {0} 层在第一次经过这张图的、被记录的反向传播调用之后被原地修改了（优化器的一步？）：它们的 |weight| 和比值是按新的权重算的，不是按计算梯度时的权重。</translation>
    </message>
    <message>
        <source>{0} of these layers were written in place during a recorded backward call made after this graph&apos;s forward (an optimizer step in a hook?): their |weight| and ratio are of the new weights, not of those the gradient was computed at.</source>
        <translation>其中 {0} 层在这张图的前向传播之后的某一次被记录的反向传播调用（经过这张图或别的图）进行中被原地修改了（钩子里的优化器一步？）：它们的 |weight| 和比值是按新的权重算的，不是按计算梯度时的权重。</translation>
    </message>
    <message>
        <source>{0} of these layers were written in place during a recorded backward call made after this graph&apos;s forward, or after the first such call (an optimizer step?): their |weight| and ratio are of the new weights, not of those the gradient was computed at.</source>
        <translation>其中 {0} 层在这张图的前向传播之后的某一次被记录的反向传播调用（经过这张图或别的图）进行中，或在第一次这样的调用之后，被原地修改了（优化器的一步？）：它们的 |weight| 和比值是按新的权重算的，不是按计算梯度时的权重。</translation>
    </message>
</context>
<context>
    <name>QtEditor</name>
    <message>
        <source>Type a PyTorch snippet, then press Ctrl+Enter to run it.</source>
        <translation>输入一段 PyTorch 代码，然后按 Ctrl+Enter 运行。</translation>
    </message>
    <message>
        <source>Line {0}: {1}</source>
        <translation>第 {0} 行：{1}</translation>
    </message>
</context>
<context>
    <name>QtErrorsPanel</name>
    <message>
        <source>No errors.</source>
        <translation>没有错误。</translation>
    </message>
</context>
<context>
    <name>QtExportActions</name>
    <message>
        <source>PNG image (*.png);;SVG image (*.svg);;PDF (*.pdf);;Graphviz DOT (*.dot);;GraphML (*.graphml);;JSON (*.json)</source>
        <translation>PNG 图片 (*.png);;SVG 图片 (*.svg);;PDF (*.pdf);;Graphviz DOT (*.dot);;GraphML (*.graphml);;JSON (*.json)</translation>
    </message>
    <message>
        <source>GIF (*.gif);;Animated PNG (*.apng);;WebP (*.webp)</source>
        <translation>GIF 动图 (*.gif);;APNG 动图 (*.apng);;WebP 动图 (*.webp)</translation>
    </message>
    <message>
        <source>&amp;Export graph…</source>
        <translation>导出计算图(&amp;E)…</translation>
    </message>
    <message>
        <source>Export &amp;animation…</source>
        <translation>导出动画(&amp;A)…</translation>
    </message>
    <message>
        <source>The pass being stepped as a GIF, APNG or WebP: one frame per step, the gradients on the edges</source>
        <translation>把正在单步查看的这一遍反向传播导出为 GIF、APNG 或 WebP：每一步一帧，梯度标在边上</translation>
    </message>
    <message>
        <source>PNG &amp;scale</source>
        <translation>PNG 缩放(&amp;S)</translation>
    </message>
    <message>
        <source>{0:g}× (pixels per point)</source>
        <translation>{0:g}×（每点像素数）</translation>
    </message>
    <message>
        <source>&amp;Copy image</source>
        <translation>复制图片(&amp;C)</translation>
    </message>
    <message>
        <source>Nothing to export: run a snippet first.</source>
        <translation>没有可导出的内容：请先运行一个代码片段。</translation>
    </message>
    <message>
        <source>Export graph</source>
        <translation>导出计算图</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Exported {0}.</source>
        <translation>已导出 {0}。</translation>
    </message>
    <message>
        <source>No backward pass to animate: run a snippet that calls backward, or press Backward again.</source>
        <translation>没有可做成动画的反向传播：请运行一个调用 backward 的代码片段，或点击“再次反向传播”。</translation>
    </message>
    <message>
        <source>Export animation</source>
        <translation>导出动画</translation>
    </message>
    <message>
        <source>Exported {0}: {1} frames, {2}×{3} pixels.</source>
        <translation>已导出 {0}：{1} 帧，{2}×{3} 像素。</translation>
    </message>
    <message>
        <source>Graph image copied to the clipboard.</source>
        <translation>计算图图片已复制到剪贴板。</translation>
    </message>
</context>
<context>
    <name>QtFileActions</name>
    <message>
        <source>untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <source>the untitled snippet</source>
        <translation>未命名的代码片段</translation>
    </message>
    <message>
        <source>Unsaved edits</source>
        <translation>未保存的修改</translation>
    </message>
    <message>
        <source>{0} has edits that are not saved.</source>
        <translation>{0} 有尚未保存的修改。</translation>
    </message>
    <message>
        <source>Save them before {0}?</source>
        <translation>在{0}之前保存吗？</translation>
    </message>
    <message>
        <source>Cannot open</source>
        <translation>无法打开</translation>
    </message>
    <message>
        <source>How to fix: {0}</source>
        <translation>怎么改：{0}</translation>
    </message>
    <message>
        <source>Opened {0} (not run: press Ctrl+Enter).</source>
        <translation>已打开 {0}（还没有运行：按 Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>opening another file</source>
        <translation>打开另一个文件</translation>
    </message>
    <message>
        <source>Open snippet</source>
        <translation>打开代码片段</translation>
    </message>
    <message>
        <source>Python (*.py);;All files (*)</source>
        <translation>Python (*.py);;所有文件 (*)</translation>
    </message>
    <message>
        <source> (added {0} so it runs as plain Python)</source>
        <translation>（添加了 {0}，这样它能直接用 Python 运行）</translation>
    </message>
    <message>
        <source>Saved {0}.</source>
        <translation>已保存 {0}。</translation>
    </message>
    <message>
        <source>Save snippet</source>
        <translation>保存代码片段</translation>
    </message>
    <message>
        <source>Python (*.py)</source>
        <translation>Python (*.py)</translation>
    </message>
    <message>
        <source>Cannot save</source>
        <translation>无法保存</translation>
    </message>
    <message>
        <source>The coding line of {0} declares {1}, which has no bytes for {2}: python could not read it back. Change the coding line to utf-8, or remove that character.</source>
        <translation>{0} 的编码声明行声明了 {1}，它无法表示 {2}：python 读回来的不会是这些文字。请把编码声明改成 utf-8，或者删掉这个字符。</translation>
    </message>
    <message>
        <source>Bytes that are not UTF-8</source>
        <translation>不是 UTF-8 的字节</translation>
    </message>
    <message>
        <source>{0} holds bytes that are not UTF-8, in comments (python passes over them there). The editor shows each as U+FFFD (the replacement character), and saving writes U+FFFD in its place.</source>
        <translation>{0} 的注释里有不是 UTF-8 的字节（python 在注释里会跳过它们）。编辑器把每个这样的字节显示为 U+FFFD（替换字符），保存时会用 U+FFFD 替换原来的字节。</translation>
    </message>
    <message>
        <source>Save anyway, or cancel and keep the file as it is (Save As writes the text to another file)?</source>
        <translation>仍然保存，还是取消并保持文件原样（“另存为”可以把文字写到另一个文件）？</translation>
    </message>
    <message>
        <source>opening an example</source>
        <translation>打开示例</translation>
    </message>
    <message>
        <source>Example loaded (not run: press Ctrl+Enter).</source>
        <translation>示例已载入（还没有运行：按 Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>Restored your last text (not run).</source>
        <translation>已恢复你上次的代码（还没有运行）。</translation>
    </message>
</context>
<context>
    <name>QtFindBox</name>
    <message>
        <source>Find node (name or label)</source>
        <translation>查找节点（名称或标签）</translation>
    </message>
</context>
<context>
    <name>QtFlowChart</name>
    <message>
        <source>log10 |grad| / |weight|</source>
        <translation>log10 |grad| / |weight|</translation>
    </message>
    <message>
        <source>no gradients yet</source>
        <translation>还没有梯度</translation>
    </message>
    <message>
        <source>vanishing</source>
        <translation>梯度消失</translation>
    </message>
    <message>
        <source>exploding</source>
        <translation>梯度爆炸</translation>
    </message>
    <message>
        <source>dead</source>
        <translation>死亡</translation>
    </message>
    <message>
        <source>NaN/Inf</source>
        <translation>NaN/Inf</translation>
    </message>
    <message>
        <source>no grad</source>
        <translation>无梯度</translation>
    </message>
    <message>
        <source>↓ vanishing (hatched /)   ↑ exploding (crossed)   0 dead (dotted)</source>
        <translation>↓ 梯度消失（斜线）   ↑ 梯度爆炸（交叉线）   0 死亡（点状）</translation>
    </message>
    <message>
        <source>exploding above</source>
        <translation>高于此线：梯度爆炸</translation>
    </message>
    <message>
        <source>vanishing below</source>
        <translation>低于此线：梯度消失</translation>
    </message>
</context>
<context>
    <name>QtFormulaView</name>
    <message>
        <source>Local gradient of {0}</source>
        <translation>{0} 的局部梯度</translation>
    </message>
    <message>
        <source>No formula: {0}.</source>
        <translation>没有公式：{0}。</translation>
    </message>
    <message>
        <source>where {0}</source>
        <translation>其中 {0}</translation>
    </message>
    <message>
        <source> → {0}</source>
        <translation> → {0}</translation>
    </message>
    <message>
        <source>to {0} (slot {1}{2})</source>
        <translation>传给 {0}（槽 {1}{2}）</translation>
    </message>
    <message>
        <source>{0}: no gradient flows here (this input needs none)</source>
        <translation>{0}：这里没有梯度流过（这个输入不需要梯度）</translation>
    </message>
    <message>
        <source>torch has no derivative for this input: backward raises if one is needed</source>
        <translation>torch 对这个输入没有导数公式：如果需要它，反向传播会报错</translation>
    </message>
    <message>
        <source>with {0}</source>
        <translation>其中 {0}</translation>
    </message>
    <message>
        <source>torch: {0}</source>
        <translation>torch 的公式：{0}</translation>
    </message>
    <message>
        <source>with its numbers: {0}</source>
        <translation>代入数值：{0}</translation>
    </message>
    <message>
        <source>also saved: {0}</source>
        <translation>还保存了：{0}</translation>
    </message>
    <message>
        <source>the gradient arriving</source>
        <translation>传入的梯度</translation>
    </message>
    <message>
        <source>(freed now; read before the pass freed it)</source>
        <translation>（现在已释放；这是在这一遍释放它之前读到的）</translation>
    </message>
    <message>
        <source>(freed)</source>
        <translation>（已释放）</translation>
    </message>
    <message>
        <source>(kept by torch, not visible from Python)</source>
        <translation>（由 torch 保存，Python 中看不到）</translation>
    </message>
    <message>
        <source>a tensor of shape {0}</source>
        <translation>形状为 {0} 的张量</translation>
    </message>
    <message>
        <source>= {0}; torch sends {1} when it runs: they agree within 0.01% (or 1e-6) ✓</source>
        <translation>= {0}；它运行时 torch 将传出 {1}：两者相差在 0.01%（或 1e-6）以内，一致 ✓</translation>
    </message>
    <message>
        <source>= {0}; torch sent {1}: they agree within 0.01% (or 1e-6) ✓</source>
        <translation>= {0}；torch 传出的是 {1}：两者相差在 0.01%（或 1e-6）以内，一致 ✓</translation>
    </message>
    <message>
        <source>= {0}, which is what torch sends when it runs ✓</source>
        <translation>= {0}，正是它运行时 torch 将传出的值 ✓</translation>
    </message>
    <message>
        <source>= {0}, which is what torch sent ✓</source>
        <translation>= {0}，正是 torch 传出的值 ✓</translation>
    </message>
    <message>
        <source>a large tensor</source>
        <translation>一个很大的张量</translation>
    </message>
    <message>
        <source>= {0}; torch sends {1} when it runs</source>
        <translation>= {0}；它运行时 torch 将传出 {1}</translation>
    </message>
    <message>
        <source>= {0}; torch sent {1}</source>
        <translation>= {0}；torch 传出的是 {1}</translation>
    </message>
    <message>
        <source>{0}.backward, {1} line {2}:</source>
        <translation>{0}.backward，{1} 第 {2} 行：</translation>
    </message>
</context>
<context>
    <name>QtGraphFollower</name>
    <message>
        <source>not built yet: {0} ran before torch made this node</source>
        <translation>还没有建立：{0} 运行时 torch 还没有创建这个节点</translation>
    </message>
    <message>
        <source>not built yet: step {0} of this pass builds it (create_graph=True)</source>
        <translation>还没有建立：这一遍的第 {0} 步才建立它（create_graph=True）</translation>
    </message>
    <message>
        <source>built at step {0} of this pass (create_graph=True); this pass does not run it</source>
        <translation>在这一遍的第 {0} 步建立（create_graph=True）；这一遍不运行它</translation>
    </message>
    <message>
        <source>not part of this pass: {0} does not reach it (it may not exist yet then)</source>
        <translation>不属于这一遍：{0} 到不了这个节点（那时它可能还不存在）</translation>
    </message>
    <message>
        <source>gradient sent from {0} to {1} (slot {2}):
{3}</source>
        <translation>从 {0} 传到 {1} 的梯度（槽 {2}）：
{3}</translation>
    </message>
</context>
<context>
    <name>QtLeafPanel</name>
    <message>
        <source>autograd.grad returned for {0}</source>
        <translation>autograd.grad 对 {0} 返回的值</translation>
    </message>
    <message>
        <source>leaf</source>
        <translation>叶子节点</translation>
    </message>
    <message>
        <source>pass {0}</source>
        <translation>第 {0} 遍</translation>
    </message>
    <message>
        <source>zero grads</source>
        <translation>梯度清零</translation>
    </message>
    <message>
        <source>Every leaf&apos;s .grad set to None</source>
        <translation>每个叶子节点的 .grad 都设为 None</translation>
    </message>
    <message>
        <source>{0}.grad as torch leaves it after each pass</source>
        <translation>每一遍之后 torch 留下的 {0}.grad</translation>
    </message>
    <message>
        <source>What torch.autograd.grad returned for {0} (it does not write {0}.grad)</source>
        <translation>torch.autograd.grad 对 {0} 返回的值（它不会写入 {0}.grad）</translation>
    </message>
    <message>
        <source>nothing (the call raised)</source>
        <translation>无（调用时报错了）</translation>
    </message>
</context>
<context>
    <name>QtMainWindow</name>
    <message>
        <source>Type a snippet and press Ctrl+Enter.</source>
        <translation>输入代码片段，然后按 Ctrl+Enter。</translation>
    </message>
    <message>
        <source>{0} module(s) folded.</source>
        <translation>已折叠 {0} 个模块。</translation>
    </message>
    <message>
        <source>No node matches {0!r}.</source>
        <translation>没有节点匹配 {0!r}。</translation>
    </message>
    <message>
        <source>{0} node(s) match; showing {1}.</source>
        <translation>有 {0} 个节点匹配；正在显示 {1}。</translation>
    </message>
    <message>
        <source>(examples not installed)</source>
        <translation>（没有安装示例）</translation>
    </message>
    <message>
        <source>quitting</source>
        <translation>退出</translation>
    </message>
</context>
<context>
    <name>QtOutputPanel</name>
    <message>
        <source>What the snippet prints appears here.</source>
        <translation>代码片段打印的内容会显示在这里。</translation>
    </message>
</context>
<context>
    <name>QtPresentation</name>
    <message>
        <source>Run a snippet (leave with Esc, then Ctrl+Enter).</source>
        <translation>请运行一个代码片段（先按 Esc 退出，再按 Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>No backward pass to step through yet.</source>
        <translation>还没有可以单步查看的反向传播。</translation>
    </message>
    <message>
        <source>Enter or a click on this caption shows it short again</source>
        <translation>按 Enter 或点击这段说明，恢复简短显示</translation>
    </message>
    <message>
        <source>Enter or a click on this caption shows the rest</source>
        <translation>按 Enter 或点击这段说明，显示其余部分</translation>
    </message>
</context>
<context>
    <name>QtRootPicker</name>
    <message>
        <source>Which tensor&apos;s graph to draw (the root backward starts from)</source>
        <translation>画哪个张量的计算图（反向传播从这个根节点开始）</translation>
    </message>
    <message>
        <source>root: auto ({0})</source>
        <translation>根节点：自动（{0}）</translation>
    </message>
    <message>
        <source>root: auto</source>
        <translation>根节点：自动</translation>
    </message>
    <message>
        <source>root: {0}</source>
        <translation>根节点：{0}</translation>
    </message>
</context>
<context>
    <name>QtRunController</name>
    <message>
        <source>Running on {0}…</source>
        <translation>正在 {0} 上运行…</translation>
    </message>
    <message>
        <source>Run a snippet that builds a graph first.</source>
        <translation>请先运行一个能建立计算图的代码片段。</translation>
    </message>
    <message>
        <source>The root is not a scalar: backward starts from ones_like(root).</source>
        <translation>根节点不是标量：反向传播从 ones_like(root) 开始。</translation>
    </message>
    <message>
        <source>No graph, so no leaf .grad to set to None: run a snippet that builds a graph first.</source>
        <translation>没有计算图，也就没有叶子的 .grad 可以设为 None：请先运行一个能建立计算图的代码片段。</translation>
    </message>
    <message>
        <source>This session cannot be stopped; wait for it to finish.</source>
        <translation>这个会话无法停止；请等它运行完。</translation>
    </message>
    <message>
        <source>{0} nodes </source>
        <translation>{0} 个节点 </translation>
    </message>
    <message>
        <source>Ran; this pass shows {0}.</source>
        <translation>运行完毕；这一遍反向传播{0}。</translation>
    </message>
    <message>
        <source>Ran; no step ran in this pass.</source>
        <translation>运行完毕；这一遍反向传播一步也没有运行。</translation>
    </message>
    <message>
        <source>Ran. The snippet&apos;s backward calls ran on graphs other than the one drawn (listed with the passes); Backward again (Alt+B) runs a pass of gradstep&apos;s own.</source>
        <translation>运行完毕。代码片段的 backward 调用作用在画出的计算图之外的其他计算图上（列在各遍反向传播的列表中）；“再次反向传播”（Alt+B）会执行 gradstep 自己的一遍。</translation>
    </message>
    <message>
        <source>Ran. Step through backward with Alt+Right.</source>
        <translation>运行完毕。用 Alt+Right 单步执行反向传播。</translation>
    </message>
    <message>
        <source>Not run yet: press Ctrl+Enter to run it.</source>
        <translation>还没有运行：按 Ctrl+Enter 运行它。</translation>
    </message>
    <message>
        <source>Pass {0}: {1}</source>
        <translation>第 {0} 遍：{1}</translation>
    </message>
    <message>
        <source> — failed, see Errors</source>
        <translation> — 失败，请看“错误”面板</translation>
    </message>
    <message>
        <source>Every leaf&apos;s .grad is now None.</source>
        <translation>现在每个叶子节点的 .grad 都是 None。</translation>
    </message>
    <message>
        <source>Error: {0}</source>
        <translation>错误：{0}</translation>
    </message>
    <message>
        <source>These options apply to Backward again (Alt+B); the snippet&apos;s own calls keep what its code says.</source>
        <translation>这些选项只用于“再次反向传播”（Alt+B）；代码片段自己的调用仍按它的代码执行。</translation>
    </message>
</context>
<context>
    <name>QtSavedPanel</name>
    <message>
        <source>saved tensor</source>
        <translation>已保存的张量</translation>
    </message>
    <message>
        <source>shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>state</source>
        <translation>状态</translation>
    </message>
    <message>
        <source> (pass {0}, {1} of {2} steps done)</source>
        <translation>（第 {0} 遍，已完成 {1} / {2} 步）</translation>
    </message>
    <message>
        <source> (pass {0}, {1} of {2} steps done, step {3} raised)</source>
        <translation>（第 {0} 遍，已完成 {1} / {2} 步，第 {3} 步报错）</translation>
    </message>
    <message>
        <source>Graph</source>
        <translation>计算图</translation>
    </message>
    <message>
        <source>Click a node, or step through backward, to see its saved tensors.</source>
        <translation>点击一个节点，或单步执行反向传播，查看它已保存的张量。</translation>
    </message>
    <message>
        <source>The last run built no graph: see Errors and Output.</source>
        <translation>上一次运行没有建立计算图：请看“错误”和“输出”面板。</translation>
    </message>
    <message>
        <source>{0} ({1}) {2}: {3} saved tensor(s), {4} saved value(s)</source>
        <translation>{0}（{1}）{2}：已保存 {3} 个张量、{4} 个值</translation>
    </message>
    <message>
        <source>detached in this pass?</source>
        <translation>本次传播中被 detach？</translation>
    </message>
    <message>
        <source>changed in this pass? (saved at version {0})</source>
        <translation>本次传播中被修改？（保存时是版本 {0}）</translation>
    </message>
    <message>
        <source>still held; the snippet&apos;s code (a hook or a custom Function&apos;s backward) changed it in place during this pass, and torch refuses it at the step that raised: whether it was already changed at this step is not recorded</source>
        <translation>仍保留；代码片段的代码（某个钩子或自定义 Function 的 backward）在这次反向传播中原地修改了它，torch 在抛出错误的那一步拒绝使用它：在这一步时它是否已被修改，没有记录</translation>
    </message>
    <message>
        <source>still held; a view of the running program at a version past 0: torch refuses it at backward if it changed since the node saved it, which only unpacking it tells, and that could rebuild the view&apos;s node (gradstep does not)</source>
        <translation>仍被保存；这是运行中程序的一个视图，版本已过 0：如果节点保存它之后它被原地修改过，torch 会在反向传播时拒绝它；只有解包它才能知道，而解包可能重建这个视图的节点（gradstep 不这样做）</translation>
    </message>
    <message>
        <source>still held, but detached in place (.detach_()) since the node saved it: backward through the node raises (use .detach())</source>
        <translation>仍保留，但节点保存它之后它被原地 detach 过（.detach_()）：backward 经过该节点时会报错（请改用 .detach()）</translation>
    </message>
    <message>
        <source>still held, but changed in place since the node saved it: torch checks the version when backward unpacks it, and raises</source>
        <translation>仍保留，但节点保存它之后它被原地修改过：backward 取出它时 torch 会核对版本号，并报错</translation>
    </message>
    <message>
        <source>value {0}</source>
        <translation>值 {0}</translation>
    </message>
    <message>
        <source>still held: backward can use it</source>
        <translation>仍保留着：反向传播可以使用它</translation>
    </message>
    <message>
        <source>released by torch: a backward that needs it raises</source>
        <translation>已被 torch 释放：需要它的反向传播会报错</translation>
    </message>
</context>
<context>
    <name>QtStepBar</name>
    <message>
        <source>Step through backward</source>
        <translation>单步执行反向传播</translation>
    </message>
    <message>
        <source>{0} step/s</source>
        <translation>每秒 {0} 步</translation>
    </message>
    <message>
        <source>{0} steps/s</source>
        <translation>每秒 {0} 步</translation>
    </message>
    <message>
        <source>Play speed</source>
        <translation>播放速度</translation>
    </message>
    <message>
        <source>Which backward pass to step through: the snippet&apos;s own calls (their line is highlighted), then the passes gradstep ran</source>
        <translation>单步查看哪一遍反向传播：先是代码片段自己的调用（它们所在的行会高亮），然后是 gradstep 执行的</translation>
    </message>
    <message>
        <source>What the pass being stepped does, as its code says</source>
        <translation>正在单步查看的这一遍做了什么（按它的代码）</translation>
    </message>
    <message>
        <source> Backward again: </source>
        <translation> 再次反向传播：</translation>
    </message>
    <message>
        <source>How gradstep runs its own passes from the root (Backward again); the snippet&apos;s own calls do what their code says</source>
        <translation>gradstep 从根节点执行它自己那一遍的方式（再次反向传播）；代码片段自己的调用仍按它的代码执行</translation>
    </message>
    <message>
        <source>Keep the saved tensors after gradstep&apos;s own passes (Backward again), so backward can run again</source>
        <translation>gradstep 自己执行反向传播后保留已保存的张量（再次反向传播），这样还能再做一次反向传播</translation>
    </message>
    <message>
        <source> (failed)</source>
        <translation>（失败）</translation>
    </message>
    <message>
        <source>line {0}: another graph, not drawn</source>
        <translation>第 {0} 行：另一个计算图，没有画出</translation>
    </message>
    <message>
        <source>{0}
differentiates a graph other than the one drawn (a tensor computed again later, or another root; the root box lists it where a top-level name or path still holds it)</source>
        <translation>{0}
求导的不是画出来的这个计算图（是后来重新计算的张量，或另一个根节点；只要还有顶层名字或路径指向它，根节点框里就会列出它）</translation>
    </message>
    <message>
        <source>{0} backward call(s) of the snippet&apos;s, on graphs not drawn</source>
        <translation>代码片段的 {0} 次 backward 调用，作用在没有画出的计算图上</translation>
    </message>
    <message>
        <source> {0} / {1} steps done </source>
        <translation> 已完成 {0} / {1} 步 </translation>
    </message>
    <message>
        <source> {0} / {1} steps done, step {2} raised </source>
        <translation> 已完成 {0} / {1} 步，第 {2} 步报错 </translation>
    </message>
</context>
<context>
    <name>QtValuesPanel</name>
    <message>
        <source>Run a snippet, then step through backward.</source>
        <translation>运行一个代码片段，然后单步执行反向传播。</translation>
    </message>
    <message>
        <source>Forward value</source>
        <translation>前向值</translation>
    </message>
    <message>
        <source>Gradient arriving (grad_output)</source>
        <translation>传入的梯度（grad_output）</translation>
    </message>
    <message>
        <source>Gradient sent (grad_input)</source>
        <translation>传出的梯度（grad_input）</translation>
    </message>
    <message>
        <source>Local Jacobian: d output[i] / d input[j]</source>
        <translation>局部雅可比矩阵：d output[i] / d input[j]</translation>
    </message>
    <message>
        <source>j (input)</source>
        <translation>j（输入）</translation>
    </message>
    <message>
        <source>i (output)</source>
        <translation>i（输出）</translation>
    </message>
    <message>
        <source>Sent along slot:</source>
        <translation>沿槽传出：</translation>
    </message>
    <message>
        <source>Click a node. This pass shows {0}.</source>
        <translation>点击一个节点。这一遍反向传播{0}。</translation>
    </message>
    <message>
        <source>Click a node. No step ran in this pass.</source>
        <translation>点击一个节点。这一遍反向传播一步也没有运行。</translation>
    </message>
    <message>
        <source>Click a node, or step through backward.</source>
        <translation>点击一个节点，或单步执行反向传播。</translation>
    </message>
    <message>
        <source>The last run built no graph: see Errors and Output.</source>
        <translation>上一次运行没有建立计算图：请看“错误”和“输出”面板。</translation>
    </message>
    <message>
        <source>The local gradient of the ▶ or clicked node shows here as a formula.</source>
        <translation>▶ 节点或被点击节点的局部梯度会以公式的形式显示在这里。</translation>
    </message>
    <message>
        <source>Value now — {0}</source>
        <translation>现在的值 — {0}</translation>
    </message>
    <message>
        <source>Forward value — {0}</source>
        <translation>前向值 — {0}</translation>
    </message>
    <message>
        <source>Not captured: gradstep shows only values it knows are torch&apos;s own (Run › Deep values records more).</source>
        <translation>未捕获：gradstep 只显示它能确认是 torch 自己算出的值（“运行 › 深度记录数值”能记录更多）。</translation>
    </message>
    <message>
        <source> on {0}</source>
        <translation>（在 {0} 上）</translation>
    </message>
    <message>
        <source>▶ runs at step {0}</source>
        <translation>▶ 在第 {0} 步运行</translation>
    </message>
    <message>
        <source>✗ raised at step {0}</source>
        <translation>✗ 在第 {0} 步报错</translation>
    </message>
    <message>
        <source>ran at step {0}</source>
        <translation>在第 {0} 步运行过</translation>
    </message>
    <message>
        <source>no backward pass yet</source>
        <translation>还没有执行反向传播</translation>
    </message>
    <message>
        <source>not built yet when this pass ran</source>
        <translation>这一遍运行时它还没有建立</translation>
    </message>
    <message>
        <source>not built yet — step {0} of this pass builds it</source>
        <translation>还没有建立 — 这一遍的第 {0} 步才建立它</translation>
    </message>
    <message>
        <source>not run yet — runs at step {0}</source>
        <translation>还没有运行 — 在第 {0} 步运行</translation>
    </message>
    <message>
        <source>this pass&apos;s steps are not shown</source>
        <translation>这一遍的步骤没有显示</translation>
    </message>
    <message>
        <source>not run in this pass</source>
        <translation>这一遍中没有运行</translation>
    </message>
    <message>
        <source>selected — {0}</source>
        <translation>已选中 — {0}</translation>
    </message>
    <message>
        <source>No gradient has reached this node in this pass.</source>
        <translation>这一遍中还没有梯度传到这个节点。</translation>
    </message>
    <message>
        <source>Nothing sent in this pass.</source>
        <translation>这一遍中没有传出任何东西。</translation>
    </message>
    <message>
        <source>torch raised here: nothing was sent.</source>
        <translation>torch 在这里报错：什么也没有传出。</translation>
    </message>
    <message>
        <source>Gradient it sends when it runs (grad_input)</source>
        <translation>它运行时将传出的梯度（grad_input）</translation>
    </message>
    <message>
        <source>It sends nothing on (a leaf).</source>
        <translation>它不再往下传（叶子节点）。</translation>
    </message>
    <message>
        <source>Sends along slot:</source>
        <translation>将沿槽传出：</translation>
    </message>
    <message>
        <source>{0}.grad: {1} → {2} when this step runs</source>
        <translation>这一步运行时 {0}.grad：{1} → {2}</translation>
    </message>
    <message>
        <source>{0}.grad: {1} → {2}</source>
        <translation>{0}.grad：{1} → {2}</translation>
    </message>
    <message>
        <source>autograd.grad does not write .grad: {0}.grad is {1}; what the call returned is in Leaf gradients.</source>
        <translation>autograd.grad 不会写入 .grad：{0}.grad 是 {1}；这次调用返回的值在“叶子节点的梯度”面板里。</translation>
    </message>
    <message>
        <source>{0}.grad at this step: not known (the snippet&apos;s code changed it during the pass)</source>
        <translation>{0}.grad 在这一步：不知道（代码片段自己的代码在这次反向传播中改了它）</translation>
    </message>
    <message>
        <source>{0}.grad now: {1}</source>
        <translation>{0}.grad 现在是：{1}</translation>
    </message>
    <message>
        <source>Saves no tensor for backward.</source>
        <translation>没有为反向传播保存张量。</translation>
    </message>
    <message>
        <source>alive: {0}</source>
        <translation>仍保留：{0}</translation>
    </message>
    <message>
        <source>changed in place: {0}</source>
        <translation>保存后被原地修改：{0}</translation>
    </message>
    <message>
        <source>detached in place: {0}</source>
        <translation>保存后被原地 detach：{0}</translation>
    </message>
    <message>
        <source>changed in this pass (a hook or a custom Function&apos;s backward), maybe later: {0}</source>
        <translation>这次反向传播中被修改（钩子或自定义 Function 的 backward；可能在之后的步骤）：{0}</translation>
    </message>
    <message>
        <source>freed: {0}</source>
        <translation>已释放：{0}</translation>
    </message>
    <message>
        <source>Saved tensors now — {0}</source>
        <translation>现在已保存的张量 — {0}</translation>
    </message>
    <message>
        <source>no node</source>
        <translation>无节点</translation>
    </message>
    <message>
        <source>nothing flows</source>
        <translation>没有梯度流过</translation>
    </message>
    <message>
        <source>scalar</source>
        <translation>标量</translation>
    </message>
    <message>
        <source>No gradient flows through slot {0}.</source>
        <translation>没有梯度流过槽 {0}。</translation>
    </message>
    <message>
        <source>Computing the local Jacobian…</source>
        <translation>正在计算局部雅可比矩阵…</translation>
    </message>
</context>
</TS>
